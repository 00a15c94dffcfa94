import Foundation

/// One alert of the built-in evaluator, with the states Prometheus gives alerts.
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable { case pending, firing, resolved }

    public var rule: RuleName
    public var cluster: String
    /// The complete label set, sorted by name: alertname, cluster, severity, the cluster's
    /// static labels, the rule's configured labels and the condition's own.
    public var labels: [(name: String, value: String)]
    public var annotations: [String: String]
    public var state: State
    /// Unix time the condition became true.
    public var activeAt: Double
    public var resolvedAt: Double?
    public var value: Double
    /// When the notifier was last handed this alert.
    var lastSentAt: Double?

    /// Identity across evaluations: the label set.
    var key: String { labels.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1F}") }

    public var severity: String { labels.first { $0.name == "severity" }?.value ?? "" }

    public static func == (a: Alert, b: Alert) -> Bool {
        a.key == b.key && a.state == b.state && a.annotations == b.annotations
    }
}

/// The `{{ $labels.name }}` and `{{ $value }}` placeholders of Prometheus alert templates, so
/// the same annotation text works in alerts/ and in the built-in evaluator.
enum AnnotationTemplate {
    static func expand(_ template: String, labels: [(name: String, value: String)], value: Double) -> String {
        var out = template
        guard out.contains("{{") else { return out }
        for label in labels {
            for spelling in ["{{ $labels.\(label.name) }}", "{{$labels.\(label.name)}}"] {
                out = out.replacingOccurrences(of: spelling, with: label.value)
            }
        }
        let formatted = Exposition.formatValue(value.rounded() == value ? value : (value * 1000).rounded() / 1000)
        for spelling in ["{{ $value }}", "{{$value}}"] { out = out.replacingOccurrences(of: spelling, with: formatted) }
        return out
    }
}
