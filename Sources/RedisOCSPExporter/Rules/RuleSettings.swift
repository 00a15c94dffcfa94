import RedisSoftwareAPI
import YAML

/// One rule's configuration: its definition's defaults, overridden by the `rules:` section.
struct RuleSettings: Sendable {
    var enabled = true
    var forDuration: Duration
    var severity: String
    var labels: Labels = []
    var annotations: [String: String]
    /// The `threshold` parameter, for the rules that take one.
    var threshold = Threshold.fixed(.zero)
    /// The `min_software_version` parameter, for the rules that take one.
    var minSoftwareVersion: String?

    init(_ rule: Rule, runbookBase: String = Rule.defaultRunbookBase) {
        forDuration = rule.forDuration
        severity = rule.severity
        annotations = rule.annotations(runbookBase: runbookBase)
        for case .threshold(let value, _) in rule.parameters { threshold = .fixed(value) }
    }
}

/// A rule's `threshold`: a duration, or (where the rule allows it) `auto`, the time one
/// refresh-and-retry cycle of the cluster takes: query_frequency + recovery_frequency *
/// recovery_max_tries, or 1h where the configuration lacks one of them.
enum Threshold: Sendable, Equatable {
    case fixed(Duration)
    case auto

    static let autoFallback = 3600.0

    func seconds(for config: OCSPConfig?) -> Double {
        switch self {
        case .fixed(let duration): return duration.seconds
        case .auto:
            guard let q = config?.queryFrequency, let f = config?.recoveryFrequency, let n = config?.recoveryMaxTries else { return Self.autoFallback }
            return Double(q + f * n)
        }
    }
}

/// Every built-in rule's settings, defaults filled in.
struct RulesConfig: Sendable {
    var settings: [Rule: RuleSettings]

    init(overrides: [Rule: RuleSettings] = [:], runbookBase: String = Rule.defaultRunbookBase) {
        settings = Dictionary(uniqueKeysWithValues: Rule.builtIn.map { ($0, overrides[$0] ?? RuleSettings($0, runbookBase: runbookBase)) })
    }

    subscript(_ rule: Rule) -> RuleSettings { settings[rule] ?? RuleSettings(rule) }
}

/// The `rules:` section.
extension Reader {
    mutating func readRules(_ node: YAMLNode?) -> RulesConfig {
        guard let entries = mapping(node, "rules", allowed: Rule.builtIn.map(\.name).sorted() + ["runbook_base_url"]) else {
            return RulesConfig()
        }
        var runbookBase = Rule.defaultRunbookBase
        if let base = string(entries["runbook_base_url"], "rules.runbook_base_url") {
            if base.hasPrefix("https://") || base.hasPrefix("http://") {
                runbookBase = base
            } else {
                issue("rules.runbook_base_url", entries["runbook_base_url"], "must be an http or https URL (the runbooks page; each rule adds #alertname)")
            }
        }
        var overrides: [Rule: RuleSettings] = [:]
        for (name, ruleNode) in entries {
            guard let rule = Rule.builtIn.first(where: { $0.name == name }) else { continue }
            let field = "rules.\(name)"
            var settings = RuleSettings(rule, runbookBase: runbookBase)
            let common = ["enabled", "for", "severity", "labels", "annotations"]
            guard let fields = mapping(ruleNode, field, allowed: common + rule.parameters.map(\.key)) else { continue }
            if let enabled = bool(fields["enabled"], "\(field).enabled") { settings.enabled = enabled }
            if let value = duration(fields["for"], "\(field).for", allowZero: true) { settings.forDuration = value }
            if let severity = string(fields["severity"], "\(field).severity") {
                if severity.isEmpty { issue("\(field).severity", fields["severity"], "must not be empty") }
                settings.severity = severity
            }
            settings.labels = readLabels(fields["labels"], field: "\(field).labels",
                                         reserved: Reader.reservedLabelNames.union(["alertname", "cluster", "severity"]))
            if let annotations = mapping(fields["annotations"], "\(field).annotations", allowed: []) {
                for (key, valueNode) in annotations {
                    if let text = string(valueNode, "\(field).annotations.\(key)") { settings.annotations[key] = text }
                }
            }
            for parameter in rule.parameters {
                let path = "\(field).\(parameter.key)"
                switch parameter {
                case .threshold(_, let allowsAuto):
                    if allowsAuto, case .scalar(let scalar)? = fields["threshold"], DurationParser.parse(scalar.string) == nil {
                        if scalar.string == "auto" {
                            settings.threshold = .auto
                        } else {
                            issue(path, fields["threshold"], "\"\(scalar.string)\" is neither a duration (e.g. 30m, 2h) nor auto")
                        }
                    } else if let threshold = duration(fields["threshold"], path) {
                        settings.threshold = .fixed(threshold)
                    }
                case .minSoftwareVersion:
                    guard let version = string(fields[parameter.key], path) else { continue }
                    if version.split(whereSeparator: { $0 == "." || $0 == "-" }).contains(where: { Int($0) == nil }) || version.isEmpty {
                        issue(path, fields[parameter.key], "\"\(version)\" is not a version like 7.8.2 or 7.8.2-34")
                    }
                    settings.minSoftwareVersion = version
                }
            }
            overrides[rule] = settings
        }
        return RulesConfig(overrides: overrides, runbookBase: runbookBase)
    }
}
