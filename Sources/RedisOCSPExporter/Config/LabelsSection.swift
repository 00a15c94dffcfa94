import YAML

extension Reader {
    /// Label names the exporter itself puts on cluster series; a static label may not reuse them.
    static let reservedLabelNames: Set<String> = [
        "cluster", "endpoint", "error_code", "status", "node", "addr", "software_version", "node_status",
        "responder_url", "alertname", "alertstate", "severity", "le", "quantile", "version", "revision",
        "job", "instance", "alert",
    ]

    /// A `labels:` mapping of valid Prometheus label names not in `reserved`.
    mutating func readLabels(_ node: YAMLNode?, field: String, reserved: Set<String> = Reader.reservedLabelNames) -> Labels {
        guard let fields = mapping(node, field, allowed: []) else { return [] }
        var labels: [(String, String)] = []
        for (name, valueNode) in fields {
            let path = "\(field).\(name)"
            guard Self.isValidLabelName(name) else {
                issue(path, valueNode, "\"\(name)\" is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
                continue
            }
            guard !reserved.contains(name) else {
                issue(path, valueNode, "\"\(name)\" is a label the exporter sets itself; choose another name")
                continue
            }
            if let value = string(valueNode, path) { labels.append((name, value)) }
        }
        return Labels(labels)
    }

    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !name.hasPrefix("__") else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}
