import YAML

/// One of `count` replicas that split a fleet between them: each polls only the clusters whose
/// name hashes to its `index`, so the replicas together cover every cluster exactly once.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// Parses "I/N" with 0 <= I < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), (1...10_000).contains(count),
              (0..<count).contains(index)
        else { return nil }
        self.index = index
        self.count = count
    }

    public func owns(_ cluster: String) -> Bool {
        StableHash.fnv1a(cluster) % UInt64(count) == UInt64(index)
    }

    public var description: String { "\(index)/\(count)" }
}

extension Reader {
    mutating func readShard(_ node: YAMLNode?) -> Shard? {
        guard let text = string(node, "shard") else { return nil }
        guard let shard = Shard(text) else {
            issue("shard", node, "\"\(text)\" is not I/N with 0 <= I < N (e.g. 0/3 for the first of three replicas)")
            return nil
        }
        return shard
    }
}

extension ExporterConfig {
    /// Keeps the clusters `shard` owns. The whole file is validated before, so every replica
    /// accepts or refuses the same configuration.
    func sharded(_ shard: Shard?) -> ExporterConfig {
        guard let shard else { return self }
        var config = self
        config.shard = shard
        config.clusters = clusters.filter { shard.owns($0.name) }
        return config
    }
}
