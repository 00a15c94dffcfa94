import FoundationEssentials

/// One alert of the built-in evaluator, with the states Prometheus gives alerts.
struct Alert: Sendable, Equatable {
    enum State: String, Sendable { case pending, firing, resolved }

    var rule: Rule
    var cluster: String
    /// The complete label set, sorted by name: alertname, cluster, severity, the cluster's
    /// static labels, the rule's configured labels and the condition's own.
    var labels: Labels
    var annotations: [String: String]
    var state: State
    /// Unix time the condition became true.
    var activeAt: Double
    var resolvedAt: Double?
    var value: Double
    /// When the notifier was last handed this alert.
    var lastSentAt: Double?

    /// Identity across evaluations: the label set.
    var key: String { labels.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1F}") }

    /// Bytes of text the alert holds, for bounds in bytes.
    var size: Int {
        labels.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
            + annotations.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }

    var severity: String { labels.first { $0.name == "severity" }?.value ?? "" }

    static func == (a: Alert, b: Alert) -> Bool {
        a.key == b.key && a.state == b.state && a.annotations == b.annotations
    }
}

/// The `{{ $labels.name }}` and `{{ $value }}` placeholders of Prometheus alert templates, so
/// the same annotation text works in alerts/ and in the built-in evaluator.
enum AnnotationTemplate {
    static func expand(_ template: String, labels: Labels, value: Double) -> String {
        var out = template
        guard out.contains("{{") else { return out }
        for label in labels {
            for spelling in ["{{ $labels.\(label.name) }}", "{{$labels.\(label.name)}}"] {
                out = out.replacing(spelling, with: label.value)
            }
        }
        let formatted = goFormat(value)
        for spelling in ["{{ $value }}", "{{$value}}"] { out = out.replacing(spelling, with: formatted) }
        return out
    }

    /// A float as Go's fmt prints it with %v, which Prometheus templates use for $value:
    /// the shortest digits that read back, in exponent form below 1e-4 and from 1e+06.
    static func goFormat(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == 0 { return "0" }
        // Swift's description is also the shortest round-tripping form; take its digits.
        let text = abs(value).description
        let mantissa = text.split(separator: "e")[0]
        var exponent = text.contains("e") ? Int(text.split(separator: "e")[1])! : 0
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(parts[0]), fraction = parts.count > 1 ? String(parts[1]) : ""
        var digits = integer + fraction
        exponent += integer.count - 1
        let leadingZeros = digits.prefix { $0 == "0" }.count
        digits.removeFirst(leadingZeros)
        exponent -= leadingZeros
        while digits.hasSuffix("0") { digits.removeLast() }
        if digits.isEmpty { digits = "0" }
        let sign = value < 0 ? "-" : ""
        if exponent < -4 || exponent >= 6 {
            let rest = digits.dropFirst()
            let e = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
            return sign + String(digits.first!) + (rest.isEmpty ? "" : "." + rest) + "e" + (exponent < 0 ? "-" : "+") + e
        }
        if exponent < 0 { return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits }
        if digits.count <= exponent + 1 { return sign + digits + String(repeating: "0", count: exponent + 1 - digits.count) }
        return sign + digits.prefix(exponent + 1) + "." + digits.dropFirst(exponent + 1)
    }
}
