import FoundationEssentials
import Logging

/// The `check` command's work: each cluster once through `CheckRound.once`, as /probe runs
/// one, at most max_concurrent_rounds REST rounds at a time and each within its timeout, then
/// the built-in rules on that one snapshot with `for` ignored.
public enum OneShotCheck {
    /// `stapling`: run the configured stapling probes too.
    public static func run(_ config: ExporterConfig, stapling: Bool, logger: Logger) async -> CheckReport {
        var rules = config.rules
        for rule in Rule.builtIn { rules.settings[rule]?.forDuration = .zero }
        let now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
        let rounds = RequestLimiter(limit: config.maxConcurrentRounds)
        // A person waits for the whole fleet; only each round's own timeout ends it.
        let deadline = ContinuousClock.now + .seconds(86_400 * 365)
        let snapshots = await withTaskGroup(of: ClusterSnapshot.self) { group in
            for cluster in config.clusters {
                let client = ClusterClient(cluster: cluster, idleTimeout: Scheduler.idleTimeout(keptAlive: false))
                let context = CheckContext(cluster: cluster, client: client, logger: logger, now: now)
                group.addTask {
                    defer { client.connections.close() }
                    return await CheckRound.once(cluster, stapling: stapling, context: context, rounds: rounds, deadline: deadline)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let engine = RuleEngine(rules: rules, resendInterval: .seconds(60), logger: logger)
        let at = now()
        let order = Dictionary(uniqueKeysWithValues: config.clusters.enumerated().map { ($1.name, $0) })
        return CheckReport(clusters: snapshots.sorted { order[$0.name]! < order[$1.name]! }.map { snapshot in
            ClusterReport(snapshot, alerts: engine.evaluate(snapshot, now: at).active.filter { $0.state == .firing }, rules: rules, now: at)
        })
    }
}
