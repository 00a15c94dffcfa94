/// Rules on the OCSP capability of the nodes (`NodesCheck` and the REST round).
extension Rule {
    /// The nodes an annotation names before it only counts the rest.
    static let maxNodesNamed = 20

    static let unsupportedNodes = Rule(
        name: "RedisOCSPUnsupportedNodes", severity: "warning", forDuration: .seconds(300), parameters: [.minSoftwareVersion],
        summary: "Not every node of cluster {{ $labels.cluster }} supports OCSP",
        description: "The cluster answers ocsp_unsupported_by_capability, usually during an upgrade with mixed versions. Finish upgrading the nodes listed in redis_ocsp_node_info.",
        expression: "redis_ocsp_supported == 0"
    ) { snapshot, _, settings in
        guard snapshot.supported == false else { return [] }
        let nodes = (snapshot.nodes ?? []).sorted { $0.uid < $1.uid }
        let named = settings.minSoftwareVersion.map { minimum in
            nodes.filter { SoftwareVersion.compare($0.softwareVersion, minimum) < 0 }
        } ?? nodes
        // An annotation travels in every notification: it names a few nodes, then counts.
        var list = named.prefix(maxNodesNamed).map { "node \($0.uid) (\($0.addr)): \($0.softwareVersion.isEmpty ? "unknown version" : $0.softwareVersion)" }
        if named.count > maxNodesNamed { list.append("and \(named.count - maxNodesNamed) more") }
        if let total = snapshot.nodeCount, total > nodes.count { list.append("\(total - nodes.count) nodes not kept") }
        let heading = settings.minSoftwareVersion.map { "nodes below \($0)" } ?? "node versions"
        return [AlertCondition(value: 0, extraAnnotations: ["nodes": list.isEmpty ? "\(heading): none known" : "\(heading): " + list.joined(separator: ", ")])]
    }
}
