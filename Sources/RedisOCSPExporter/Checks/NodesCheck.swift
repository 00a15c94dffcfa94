import RedisSoftwareAPI

/// `GET /v1/nodes`: the nodes and their software versions (an old node blocks OCSP).
struct NodesCheck: RESTCheck {
    let id = "nodes"
    static var state: WritableKeyPath<CheckStates, RESTState<NodeList>?> { \.nodes }
    let path = "/v1/nodes"
    let permission = "view_all_nodes_info"
    let isOCSPEndpoint = false
    let families: [ClusterFamily] = [.nodeInfo, .nodes]

    func render(answer nodes: NodeList, into samples: inout ClusterSamples) {
        samples.write(.nodeInfo) { w in
            for node in nodes.kept {
                w.sample(ClusterFamily.nodeInfo.name, [
                    ("node", String(node.uid)), ("addr", node.addr), ("software_version", node.softwareVersion),
                    ("node_status", node.status),
                ], 1)
            }
        }
        samples.gauge(.nodes, Double(nodes.total))
    }
}

/// A cluster's nodes as the exporter keeps them: one per uid, in uid order, at most `maxKept`,
/// each text field at most `maxFieldLength` characters; `total` counts every distinct node
/// listed. A real cluster has a few dozen nodes; an answer with 50,000 must not become
/// 50,000 series, a page of megabytes and an alert annotation to match.
struct NodeList: APIObject, Equatable {
    static let maxKept = 500
    static let maxFieldLength = 128

    var kept: [ClusterNode]
    var total: Int

    init(_ nodes: [ClusterNode]) {
        var byUID: [Int64: ClusterNode] = [:]
        for node in nodes where byUID[node.uid] == nil { byUID[node.uid] = node }
        total = byUID.count
        func bounded(_ text: String) -> String { text.count > Self.maxFieldLength ? String(text.prefix(Self.maxFieldLength)) : text }
        kept = byUID.values.sorted { $0.uid < $1.uid }.prefix(Self.maxKept).map {
            ClusterNode(uid: $0.uid, addr: bounded($0.addr), status: bounded($0.status), softwareVersion: bounded($0.softwareVersion))
        }
    }

    static func decode(_ json: JSONValue) throws(DecodeError) -> NodeList {
        NodeList(try [ClusterNode].decode(json))
    }
}

extension ClusterSnapshot {
    /// The nodes kept from the latest answer of `GET /v1/nodes`; nil where it failed.
    var nodes: [ClusterNode]? { checks.nodes?.value?.kept }

    /// How many distinct nodes that answer listed, kept or not.
    var nodeCount: Int? { checks.nodes?.value?.total }
}

extension ClusterFamily {
    static let nodeInfo = ClusterFamily("redis_ocsp_node_info", .gauge, "One series per cluster node with its address, software version and status; always 1.")
    static let nodes = ClusterFamily("redis_ocsp_nodes", .gauge, "Number of nodes in the cluster.")
}

/// Redis Software versions such as "7.8.2-34", ordered by their numeric parts.
enum SoftwareVersion {
    static func compare(_ a: String, _ b: String) -> Int {
        func parts(_ v: String) -> [Int] { v.split(whereSeparator: { $0 == "." || $0 == "-" }).map { Int($0) ?? 0 } }
        let (x, y) = (parts(a), parts(b))
        for i in 0..<max(x.count, y.count) {
            let (p, q) = (i < x.count ? x[i] : 0, i < y.count ? y[i] : 0)
            if p != q { return p < q ? -1 : 1 }
        }
        return 0
    }
}
