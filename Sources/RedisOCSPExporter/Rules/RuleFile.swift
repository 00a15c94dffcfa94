/// alerts/redis-ocsp.rules.yml and the Kubernetes PrometheusRule, written from `Rule.all` by
/// `redis-ocsp-exporter rules`; the tests check the committed files are this output.
public enum RuleFile {
    public enum Format: String, Sendable, CaseIterable {
        /// A Prometheus rule file.
        case prometheus
        /// A prometheus-operator PrometheusRule object with the same groups.
        case prometheusRule = "prometheusrule"
    }

    public static func render(_ format: Format) -> String {
        switch format {
        case .prometheus:
            return """
                # Prometheus alerting rules for redis-ocsp-exporter, written by `redis-ocsp-exporter rules`
                # from the exporter's rule definitions: change those and run it again, not this file.
                # The first group holds the rules the built-in evaluator runs too (same alert names,
                # severities, `for` defaults and annotations; the tests check that the two agree on every
                # simulator scenario). The second group watches the exporter itself.
                groups:

                """ + groups(indent: 2)
        case .prometheusRule:
            return """
                # The rules of alerts/redis-ocsp.rules.yml as a PrometheusRule, written by
                # `redis-ocsp-exporter rules --format=prometheusrule`.
                apiVersion: monitoring.coreos.com/v1
                kind: PrometheusRule
                metadata:
                  name: redis-ocsp
                  labels:
                    release: prometheus
                spec:
                  groups:

                """ + groups(indent: 4)
        }
    }

    private static func groups(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return Rule.Group.allCases.map { group in
            "\(pad)- name: \(group.rawValue)\n\(pad)  rules:\n"
                + Rule.all.filter { $0.group == group }.map { rule($0, indent: indent + 4) }.joined()
        }.joined(separator: "\n")
    }

    private static func rule(_ rule: Rule, indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var out = "\(pad)- alert: \(rule.name)\n"
        for line in rule.comment?.split(separator: "\n") ?? [] { out += "\(pad)  # \(line)\n" }
        if rule.expression.contains("\n") {
            out += "\(pad)  expr: |\n" + rule.expression.split(separator: "\n").map { "\(pad)    \($0)\n" }.joined()
        } else {
            out += "\(pad)  expr: \(rule.expression)\n"
        }
        if rule.forDuration > .zero { out += "\(pad)  for: \(DurationParser.format(rule.forDuration))\n" }
        out += "\(pad)  labels:\n\(pad)    severity: \(rule.severity)\n\(pad)  annotations:\n"
        let annotations = rule.annotations()
        for key in ["summary", "description", "runbook_url"] { out += "\(pad)    \(key): \(quoted(annotations[key]!))\n" }
        return out
    }

    /// A YAML double-quoted scalar.
    private static func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}
