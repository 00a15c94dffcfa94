import AsyncHTTPClient
import Foundation
import Logging

/// The `check` command's work: every configured check of each cluster once, concurrently
/// across clusters and each within its timeout, then the built-in rules on that one snapshot
/// with `for` ignored.
public enum OneShotCheck {
    /// `stapling`: run the configured stapling probes too.
    public static func run(_ config: ExporterConfig, stapling: Bool, logger: Logger) async -> CheckReport {
        var rules = config.rules
        for rule in RuleName.allCases { rules.settings[rule]?.forDuration = .zero }
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        let configuration = Scheduler.httpConfiguration(clusters: config.clusters.count,
                                                        dnsOverrides: ClusterClient.dnsOverrides(for: config.clusters))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        // At most max_concurrent_requests clusters at once, as the exporter polls them.
        let snapshots = await withTaskGroup(of: ClusterSnapshot.self) { group in
            func start(_ cluster: ClusterConfig) {
                let lanes = CheckRound.lanes(for: cluster).filter { stapling || $0.lane == .rest }
                let context = CheckContext(cluster: cluster, client: ClusterClient(http: http, cluster: cluster), logger: logger, now: now)
                group.addTask { await CheckRound.once(cluster, lanes: lanes, context: context) }
            }
            config.clusters.prefix(config.maxConcurrentRequests).forEach(start)
            var pending = config.clusters.dropFirst(config.maxConcurrentRequests), done: [ClusterSnapshot] = []
            for await snapshot in group {
                done.append(snapshot)
                if let cluster = pending.popFirst() { start(cluster) }
            }
            return done
        }
        try? await http.shutdown()
        let engine = RuleEngine(rules: rules, resendInterval: .seconds(60), logger: logger)
        let at = now()
        let order = Dictionary(uniqueKeysWithValues: config.clusters.enumerated().map { ($1.name, $0) })
        return CheckReport(clusters: snapshots.sorted { order[$0.name]! < order[$1.name]! }.map { snapshot in
            ClusterReport(snapshot, alerts: engine.evaluate(snapshot, now: at).active.filter { $0.state == .firing }, rules: rules, now: at)
        })
    }
}
