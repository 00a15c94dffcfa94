import Logging
import NIOConcurrencyHelpers

/// Runs the built-in rules over cluster snapshots and keeps each alert's state
/// (inactive -> pending -> firing -> resolved), as Prometheus's rule manager does.
public final class AlertEvaluator: Sendable {
    /// What one evaluation of a cluster produced.
    public struct Outcome: Sendable {
        /// Pending and firing alerts, for /metrics, /api/v1/alerts and the landing page.
        public var active: [Alert]
        /// Alerts to hand to the notifier now: newly firing or resolved, or due for a resend.
        public var toSend: [Alert]
    }

    /// Resolved alerts are sent again for this long, so an Alertmanager that missed the
    /// first one still learns of the resolution (Prometheus keeps them 15 minutes too).
    static let resolvedRetention = 900.0

    private let settings: NIOLockedValueBox<(rules: RulesConfig, resendInterval: Double)>
    let logger: Logger
    private struct ClusterState {
        var alerts: [String: Alert] = [:]
        /// The poll time of the newest snapshot evaluated: an older one must not roll the state back.
        var polledAt = -Double.infinity
    }

    private let clusters = NIOLockedValueBox<[String: ClusterState]>([:])

    public init(rules: RulesConfig, resendInterval: Duration, logger: Logger) {
        self.settings = NIOLockedValueBox((rules, resendInterval.seconds))
        self.logger = logger
    }

    public func evaluate(_ snapshot: ClusterSnapshot, now: Double) -> Outcome {
        // A cluster not yet polled has no state to judge.
        guard let polledAt = snapshot.polledAt else { return Outcome(active: [], toSend: []) }
        let (rules, resendInterval) = settings.withLockedValue { $0 }
        var holding: [String: (AlertCondition, [(name: String, value: String)])] = [:]
        for rule in RuleName.allCases {
            let settings = rules[rule]
            guard settings.enabled else { continue }
            for condition in rule.conditions(snapshot, now: now, settings: settings) {
                var labels = [("alertname", rule.rawValue), ("cluster", snapshot.name), ("severity", settings.severity)]
                labels += snapshot.labels.map { ($0.name, $0.value) } + settings.labels.map { ($0.name, $0.value) } + condition.labels
                let sorted = Self.deduplicated(labels)
                holding[sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1F}")] = (condition, sorted)
            }
        }
        return clusters.withLockedValue { all in
            var cluster = all[snapshot.name] ?? ClusterState()
            guard polledAt >= cluster.polledAt else {
                return Outcome(active: Self.active(cluster.alerts), toSend: [])
            }
            cluster.polledAt = polledAt
            var current = cluster.alerts
            var toSend: [Alert] = []
            for (key, (condition, labels)) in holding {
                let settings = rules[condition.rule]
                var alert = current[key].flatMap { $0.state == .resolved ? nil : $0 } ?? Alert(
                    rule: condition.rule, cluster: snapshot.name, labels: labels, annotations: [:], state: .pending,
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
                    log(alert, "alert \(alert.state.rawValue)")
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
                    log(alert, "alert inactive")
                case .firing:
                    alert.state = .resolved
                    alert.resolvedAt = now
                    alert.lastSentAt = now
                    log(alert, "alert resolved")
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
            cluster.alerts = current
            all[snapshot.name] = cluster
            return Outcome(active: Self.active(current), toSend: toSend.sorted { $0.key < $1.key })
        }
    }

    private static func active(_ alerts: [String: Alert]) -> [Alert] {
        alerts.values.filter { $0.state != .resolved }.sorted { $0.key < $1.key }
    }

    /// Takes new rule settings (on reload); alerts in progress keep their state.
    public func update(rules: RulesConfig, resendInterval: Duration) {
        settings.withLockedValue { $0 = (rules, resendInterval.seconds) }
    }

    /// Forgets a cluster that is no longer configured.
    public func remove(cluster: String) {
        _ = clusters.withLockedValue { $0.removeValue(forKey: cluster) }
    }

    private func log(_ alert: Alert, _ message: Logger.Message) {
        var metadata: Logger.Metadata = ["alertname": "\(alert.rule.rawValue)", "cluster": "\(alert.cluster)", "severity": "\(alert.severity)"]
        for label in alert.labels where label.name == "endpoint" { metadata["endpoint"] = "\(label.value)" }
        logger.info(message, metadata: metadata)
    }

    /// Sorted by name; where a name repeats, the later (more specific) value wins.
    static func deduplicated(_ labels: [(String, String)]) -> [(name: String, value: String)] {
        var byName: [String: String] = [:]
        for (name, value) in labels { byName[name] = value }
        return byName.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }
}
