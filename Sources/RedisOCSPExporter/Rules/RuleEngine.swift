import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The built-in rules: one loop evaluates each snapshot the store stores, in the order stored,
/// and every snapshot again on a timer (so `for` durations and a next_update that passes take
/// effect without new data); owns each alert's
/// state (inactive -> pending -> firing -> resolved, as Prometheus's rule manager keeps it),
/// renders the active alerts as their own part of the page, and hands the notifier what is
/// due to be sent.
final class RuleEngine: Service, Sendable {
    /// What one evaluation of a cluster produced.
    struct Outcome: Sendable {
        /// Pending and firing alerts, for /metrics, /api/v1/alerts and the landing page.
        var active: [Alert]
        /// Alerts to hand to the notifier now: newly firing or resolved, or due for a resend.
        var toSend: [Alert]
    }

    /// How often every snapshot is evaluated again, unless `evaluation_interval` says otherwise.
    static let defaultEvaluationInterval = Duration.seconds(15)

    /// Resolved alerts are sent again for this long, so an Alertmanager that missed the
    /// first one still learns of the resolution (Prometheus keeps them 15 minutes too).
    static let resolvedRetention = 900.0

    private struct Settings {
        let rules: RulesConfig
        let resendInterval: Double
        let evaluationInterval: Duration
        /// The enabled built-in rules in order, each with its settings: looked up once per
        /// configuration, not per rule on every evaluation (a lookup hashes the rule's name).
        let enabled: [EnabledRule]

        init(rules: RulesConfig, resendInterval: Double, evaluationInterval: Duration) {
            self.rules = rules
            self.resendInterval = resendInterval
            self.evaluationInterval = evaluationInterval
            enabled = Rule.builtIn.map { EnabledRule(rule: $0, settings: rules[$0]) }.filter(\.settings.enabled)
        }
    }

    /// A class, so the evaluation loop takes a reference to each rule, not a copy of each of
    /// its strings and its settings' (most evaluations find no condition holding).
    private final class EnabledRule: Sendable {
        let rule: Rule
        let settings: RuleSettings

        init(rule: Rule, settings: RuleSettings) {
            self.rule = rule
            self.settings = settings
        }
    }

    private let settings: NIOLockedValueBox<Settings>
    let logger: Logger
    /// Where alerts due to be sent go (the notifier's queue); nil in tests that read the outcome.
    let notify: (@Sendable ([Alert]) -> Void)?
    /// Whose snapshots the timer evaluates again.
    let store: SnapshotStore?
    let now: @Sendable () -> Double

    private struct ClusterState {
        var alerts: [String: Alert] = [:]
        /// The store version of the newest snapshot evaluated: an older one must not roll the state back.
        var version: UInt64 = 0
        /// The active alerts as redis_ocsp_alerts samples.
        var rendered: [UInt8] = []
    }

    private struct State {
        var clusters: [String: ClusterState] = [:]
        /// Bumped whenever a cluster's active alerts change, so the page knows when to rebuild.
        var generation: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init(rules: RulesConfig, resendInterval: Duration, evaluationInterval: Duration = RuleEngine.defaultEvaluationInterval,
                logger: Logger, notify: (@Sendable ([Alert]) -> Void)? = nil, store: SnapshotStore? = nil,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        settings = NIOLockedValueBox(Settings(rules: rules, resendInterval: resendInterval.seconds, evaluationInterval: evaluationInterval))
        self.logger = logger
        self.notify = notify
        self.store = store
        self.now = now
    }

    /// Evaluates a snapshot now and hands the notifier what is due.
    private func evaluate(_ snapshot: ClusterSnapshot) {
        let outcome = evaluate(snapshot, now: now())
        if !outcome.toSend.isEmpty { notify?(outcome.toSend) }
    }

    /// The one trigger: wakes when the store changes (evaluating the clusters whose snapshot
    /// did) and on the evaluation interval (evaluating all), until shutdown.
    func run() async throws {
        guard let store else { return }
        let (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let due = NIOLockedValueBox(false)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in store.changes { wakeUp.yield() }
                }
                group.addTask {
                    while (try? await EventLoopClock().sleep(for: self.evaluationInterval)) != nil {
                        due.withLockedValue { $0 = true }
                        wakeUp.yield()
                    }
                }
                group.addTask {
                    for await _ in wake {
                        let all = due.withLockedValue { due in defer { due = false }; return due }
                        let changed = store.takeChanged()
                        for entry in all ? store.read().entries : changed { self.evaluate(entry.snapshot) }
                    }
                }
            }
        }
    }

    /// Takes new rule settings; alerts in progress keep their state, the clusters not in
    /// `clusters` lose theirs.
    func apply(rules: RulesConfig, resendInterval: Duration, evaluationInterval: Duration, clusters names: Set<String>) {
        settings.withLockedValue {
            $0 = Settings(rules: rules, resendInterval: resendInterval.seconds, evaluationInterval: evaluationInterval)
        }
        state.withLockedValue { s in
            let before = s.clusters.count
            s.clusters = s.clusters.filter { names.contains($0.key) }
            if s.clusters.count != before { s.generation &+= 1 }
        }
    }

    func evaluate(_ snapshot: ClusterSnapshot, now: Double) -> Outcome {
        // A cluster not yet polled has no state to judge.
        guard snapshot.polledAt != nil else { return Outcome(active: [], toSend: []) }
        let settings = self.settings.withLockedValue { $0 }
        let resendInterval = settings.resendInterval
        var holding: [String: (enabled: EnabledRule, condition: AlertCondition, labels: Labels)] = [:]
        for enabled in settings.enabled {
            for condition in enabled.rule.conditions(snapshot, now: now, settings: enabled.settings) {
                var labels = [("alertname", enabled.rule.name), ("cluster", snapshot.name), ("severity", enabled.settings.severity)]
                labels += snapshot.labels.tuples + enabled.settings.labels.tuples + condition.labels
                let sorted = Labels(labels)
                holding[sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1F}")] = (enabled, condition, sorted)
            }
        }
        // Transitions are logged after the lock is released: the log handler writes to stderr,
        // and the server's event loop takes this lock for every scrape.
        var transitions: [(Alert, Logger.Message)] = []
        defer { for (alert, message) in transitions { log(alert, message) } }
        return state.withLockedValue { s in
            var cluster = s.clusters[snapshot.name] ?? ClusterState()
            guard snapshot.version >= cluster.version else {
                return Outcome(active: Self.active(cluster.alerts), toSend: [])
            }
            cluster.version = snapshot.version
            var current = cluster.alerts
            var toSend: [Alert] = []
            for (key, (enabled, condition, labels)) in holding {
                let (rule, settings) = (enabled.rule, enabled.settings)
                var alert = current[key].flatMap { $0.state == .resolved ? nil : $0 } ?? Alert(
                    rule: rule, cluster: snapshot.name, labels: labels, annotations: [:], state: .pending,
                    activeAt: now, resolvedAt: nil, value: condition.value
                )
                alert.value = condition.value
                alert.annotations = settings.annotations.mapValues { AnnotationTemplate.expand($0, labels: labels, value: condition.value) }
                    .merging(condition.extraAnnotations) { configured, _ in configured }
                let wasFiring = alert.state == .firing
                if alert.state == .pending, now - alert.activeAt >= settings.forDuration.seconds {
                    alert.state = .firing
                }
                if current[key]?.state != alert.state || current[key] == nil {
                    transitions.append((alert, "alert \(alert.state.rawValue)"))
                }
                if alert.state == .firing, !wasFiring || alert.lastSentAt.map({ now - $0 >= resendInterval }) ?? true {
                    alert.lastSentAt = now
                    toSend.append(alert)
                }
                current[key] = alert
            }
            for (key, var alert) in current where holding[key] == nil {
                switch alert.state {
                case .pending:
                    current[key] = nil
                    transitions.append((alert, "alert inactive"))
                case .firing:
                    alert.state = .resolved
                    alert.resolvedAt = now
                    alert.lastSentAt = now
                    transitions.append((alert, "alert resolved"))
                    toSend.append(alert)
                    current[key] = alert
                case .resolved:
                    if now - (alert.resolvedAt ?? now) > Self.resolvedRetention {
                        current[key] = nil
                    } else if alert.lastSentAt.map({ now - $0 >= resendInterval }) ?? true {
                        alert.lastSentAt = now
                        toSend.append(alert)
                        current[key] = alert
                    }
                }
            }
            let active = Self.active(current)
            if active != Self.active(cluster.alerts) || s.clusters[snapshot.name] == nil {
                cluster.rendered = Self.render(active, of: snapshot)
                s.generation &+= 1
            }
            cluster.alerts = current
            s.clusters[snapshot.name] = cluster
            return Outcome(active: active, toSend: toSend.sorted { $0.key < $1.key })
        }
    }

    /// The rule settings in force.
    var rules: RulesConfig { settings.withLockedValue { $0.rules } }

    /// How often the rules run between polls.
    var evaluationInterval: Duration { settings.withLockedValue { $0.evaluationInterval } }

    /// A cluster's pending and firing alerts.
    func alerts(_ cluster: String) -> [Alert] {
        state.withLockedValue { s in s.clusters[cluster].map { Self.active($0.alerts) } ?? [] }
    }

    /// Per cluster, the store version of the snapshot the engine took last: readiness waits
    /// for every cluster's first, so the alerts never lag the first round.
    func evaluatedVersions() -> [String: UInt64] {
        state.withLockedValue { s in s.clusters.mapValues(\.version) }
    }

    /// The redis_ocsp_alerts samples of each cluster, and a generation that changes with them.
    func renderedAlerts() -> (generation: UInt64, byCluster: [String: [UInt8]]) {
        state.withLockedValue { s in (s.generation, s.clusters.mapValues(\.rendered)) }
    }

    var generation: UInt64 { state.withLockedValue { $0.generation } }

    private static func render(_ alerts: [Alert], of snapshot: ClusterSnapshot) -> [UInt8] {
        var writer = SampleWriter(baseLabels: [("cluster", snapshot.name)] + snapshot.labels.tuples)
        for alert in alerts {
            // cluster and the static labels are in the base labels already.
            var labels = alert.labels.filter { $0.name != "cluster" && snapshot.labels[$0.name] == nil }.map { ($0.name, $0.value) }
            labels.insert(("alertstate", alert.state.rawValue), at: labels.firstIndex { $0.0 > "alertstate" } ?? labels.count)
            writer.sample(ClusterFamily.alerts.name, labels, 1)
        }
        return writer.bytes
    }

    private static func active(_ alerts: [String: Alert]) -> [Alert] {
        alerts.values.filter { $0.state != .resolved }.sorted { $0.key < $1.key }
    }

    private func log(_ alert: Alert, _ message: Logger.Message) {
        var metadata: Logger.Metadata = ["alertname": "\(alert.rule.name)", "cluster": "\(alert.cluster)", "severity": "\(alert.severity)"]
        for label in alert.labels where label.name == "endpoint" { metadata["endpoint"] = "\(label.value)" }
        logger.info(message, metadata: metadata)
    }
}

extension ClusterFamily {
    static let alerts = ClusterFamily("redis_ocsp_alerts", .gauge, "Active alerts of the built-in rule evaluator: 1 per pending or firing alert.")
}
