/// One alerting rule, whole: the built-in evaluator's condition and the PromQL expression of
/// alerts/ side by side, with the name, severity, `for`, parameters and annotations both use.
/// `redis-ocsp-exporter rules` writes alerts/ and the Kubernetes PrometheusRule from these
/// values (`RuleFile`); `Rule.all` registers them.
struct Rule: Sendable, Hashable, Comparable {
    /// The group of alerts/ the rule is written in.
    enum Group: String, Sendable, CaseIterable {
        /// The clusters' OCSP state: the built-in evaluator runs these too.
        case clusters = "redis-ocsp"
        /// The exporter's own health: only Prometheus can see these.
        case exporter = "redis-ocsp-exporter"
    }

    /// A setting only some rules take, beyond enabled, for, severity, labels and annotations.
    enum Parameter: Sendable, Equatable {
        /// `threshold`: a duration; with `allowsAuto`, also `auto` (`Threshold.auto`).
        case threshold(default: Duration, allowsAuto: Bool)
        /// `min_software_version`: the nodes below it are the ones named.
        case minSoftwareVersion

        var key: String {
            switch self {
            case .threshold: "threshold"
            case .minSoftwareVersion: "min_software_version"
            }
        }
    }

    /// Where the rule's condition holds for a snapshot at a time (Unix seconds), each holding
    /// one future alert; it mirrors `expression`.
    typealias Condition = @Sendable (_ snapshot: ClusterSnapshot, _ now: Double, _ settings: RuleSettings) -> [AlertCondition]

    /// The alertname.
    let name: String
    var group = Group.clusters
    let severity: String
    /// How long the condition must hold before the alert fires.
    let forDuration: Duration
    var parameters: [Parameter] = []
    /// The summary and description annotations, in Prometheus's template language.
    let summary: String
    let description: String
    /// For readers of alerts/: written above the expression.
    var comment: String?
    /// The PromQL expression of alerts/.
    let expression: String
    /// nil for the rules only Prometheus evaluates.
    let condition: Condition?

    static func == (a: Rule, b: Rule) -> Bool { a.name == b.name }
    func hash(into hasher: inout Hasher) { hasher.combine(name) }
    static func < (a: Rule, b: Rule) -> Bool { a.name < b.name }

    /// Where the runbooks are unless `rules.runbook_base_url` says otherwise.
    static let defaultRunbookBase = "https://github.com/redis-ocsp-exporter/redis-ocsp-exporter/blob/main/docs/runbooks.md"

    /// This rule's entry in the runbooks: its heading's anchor.
    func runbookURL(base: String = defaultRunbookBase) -> String { base + "#" + name.lowercased() }

    func annotations(runbookBase: String = defaultRunbookBase) -> [String: String] {
        ["summary": summary, "description": description, "runbook_url": runbookURL(base: runbookBase)]
    }

    /// Where the condition holds for `snapshot` at `now`; none for a Prometheus-only rule.
    func conditions(_ snapshot: ClusterSnapshot, now: Double, settings: RuleSettings) -> [AlertCondition] {
        condition?(snapshot, now, settings) ?? []
    }

    /// The rule of an alertname.
    static func named(_ name: String) -> Rule? { all.first { $0.name == name } }

    /// The rules the built-in evaluator runs, in the order of alerts/.
    static let builtIn = all.filter { $0.condition != nil }
}

/// A rule's condition holding for a cluster: one future alert.
struct AlertCondition: Sendable {
    /// Labels that tell several alerts of one rule apart (the endpoint of RedisOCSPAPIDown).
    var labels: [(String, String)] = []
    /// The `$value` of the alert, as the equivalent PromQL expression would give it.
    var value: Double
    /// Annotations only the built-in evaluator can add (it sees the whole snapshot).
    var extraAnnotations: [String: String] = [:]
}
