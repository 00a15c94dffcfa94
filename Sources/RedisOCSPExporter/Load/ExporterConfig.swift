import FoundationEssentials
import YAML

/// The validated configuration of one exporter process. Built only by `ConfigLoader`, so a
/// value of this type is always complete and consistent: secrets read, TLS material parsed.
public struct ExporterConfig: Sendable {
    /// Clusters' REST rounds in flight at once, across all clusters: in the scheduler, in
    /// /probe and in `check` alike (a round asks one cluster's endpoints).
    var maxConcurrentRounds: Int
    /// How many clusters, the first in the file, keep their REST connection open between polls;
    /// nil for the default.
    var maxIdleConnections: Int?
    public var clusters: [ClusterConfig]

    /// The configured clusters' names, in order.
    public var clusterNames: [String] { clusters.map(\.name) }

    /// Keeps only the named clusters (the `check` command's --cluster).
    public mutating func keepOnly(_ names: [String]) { clusters = clusters.filter { names.contains($0.name) } }
    /// How often the rules are evaluated between polls, so `for` and time-based rules fire
    /// without waiting for new data.
    var evaluationInterval: Duration
    var rules: RulesConfig
    var alertmanager: AlertmanagerConfig?
    /// This replica's part of the fleet; `clusters` holds only the clusters it owns.
    public var shard: Shard?
    /// Settings that weaken what the exporter protects (credentials over http://, inline
    /// passwords, insecure_skip_verify), each naming file, line and field: `--config.check`
    /// prints them and the exporter logs them at start.
    public var warnings: [String] = []

    static let defaultPollInterval = Duration.seconds(30)
    static let defaultTimeout = Duration.seconds(10)
    static let defaultMaxConcurrentRounds = 64
    /// By default a fleet up to this size keeps every cluster's connection open between polls
    /// and a larger one none: an idle connection holds about 28 KB and saves a TLS handshake
    /// per poll, which a fleet of thousands would pay in memory (see docs/performance.md).
    static let keepAliveFleetLimit = 1000

    /// How many clusters, the first in the file, keep their REST connection open between polls.
    var idleConnections: Int {
        maxIdleConnections ?? (clusters.count <= Self.keepAliveFleetLimit ? clusters.count : 0)
    }
    static let defaultEvaluationInterval = RuleEngine.defaultEvaluationInterval

    /// How often a firing alert is sent again, also without an Alertmanager (the rule engine keeps time).
    var resendInterval: Duration { alertmanager?.resendInterval ?? AlertmanagerConfig.defaultResendInterval }
}

extension Reader {
    mutating func readRoot(_ root: YAMLNode?) -> ExporterConfig? {
        guard let top = mapping(root, "", allowed: ["poll_interval", "timeout", "max_concurrent_rounds", "max_concurrent_requests", "max_idle_connections",
                                                    "evaluation_interval",
                                                    "clusters", "rules", "alertmanager", "shard"]) else {
            return nil
        }
        let pollInterval = duration(top["poll_interval"], "poll_interval") ?? ExporterConfig.defaultPollInterval
        let timeout = duration(top["timeout"], "timeout") ?? ExporterConfig.defaultTimeout
        // max_concurrent_requests is the setting's earlier name: it always bounded rounds.
        if let old = top["max_concurrent_requests"] {
            if top["max_concurrent_rounds"] != nil {
                issue("max_concurrent_requests", old, "is the earlier name of max_concurrent_rounds; set only max_concurrent_rounds")
            } else {
                warn("max_concurrent_requests", old, "is now named max_concurrent_rounds (clusters' REST rounds in flight at once)")
            }
        }
        let maxConcurrent = int(top["max_concurrent_rounds"] ?? top["max_concurrent_requests"],
                                top["max_concurrent_rounds"] == nil && top["max_concurrent_requests"] != nil ? "max_concurrent_requests" : "max_concurrent_rounds",
                                range: 1...10_000) ?? ExporterConfig.defaultMaxConcurrentRounds
        let maxIdle = int(top["max_idle_connections"], "max_idle_connections", range: 0...1_000_000)

        var clusters: [ClusterConfig] = []
        switch top["clusters"] {
        case .sequence(let items, _)?:
            var seen: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                if let cluster = readCluster(item, index: index, pollInterval: pollInterval, timeout: timeout, seen: &seen) {
                    clusters.append(cluster)
                }
            }
            if items.isEmpty { issue("clusters", top["clusters"], "must list at least one cluster") }
        case nil:
            issue("clusters", root, "is required: list at least one cluster")
        case let other?:
            issue("clusters", other, "must be a list")
        }
        var config = ExporterConfig(
            maxConcurrentRounds: maxConcurrent, maxIdleConnections: maxIdle, clusters: clusters,
            evaluationInterval: duration(top["evaluation_interval"], "evaluation_interval") ?? ExporterConfig.defaultEvaluationInterval,
            rules: readRules(top["rules"]), alertmanager: readAlertmanager(top["alertmanager"]), shard: readShard(top["shard"])
        )
        config.warnings = warnings.map { "\(source): \($0)" }
        return config
    }
}
