import RedisSoftwareAPI

/// `GET /v1/nodes`: the nodes and their software versions (an old node blocks OCSP).
struct NodesCheck: RESTCheck {
    let id = "nodes"
    let path = "/v1/nodes"
    let permission = "view_all_nodes_info"
    let isOCSPEndpoint = false
    let families: [ClusterFamily] = [.nodeInfo, .nodes]

    func render(answer nodes: [ClusterNode], into samples: inout ClusterSamples) {
        samples.write(.nodeInfo) { w in
            for node in nodes.sorted(by: { $0.uid < $1.uid }) {
                w.sample(ClusterFamily.nodeInfo.name, [
                    ("node", String(node.uid)), ("addr", node.addr), ("software_version", node.softwareVersion),
                    ("node_status", node.status),
                ], 1)
            }
        }
        samples.gauge(.nodes, Double(nodes.count))
    }
}

extension ClusterSnapshot {
    /// The latest answer of `GET /v1/nodes`; nil where it failed.
    var nodes: [ClusterNode]? {
        get { rest(NodesCheck())?.value }
        set { setValue(newValue, of: NodesCheck()) }
    }
}

extension ClusterFamily {
    static let nodeInfo = ClusterFamily("redis_ocsp_node_info", .gauge, "One series per cluster node with its address, software version and status; always 1.")
    static let nodes = ClusterFamily("redis_ocsp_nodes", .gauge, "Number of nodes in the cluster.")
}
