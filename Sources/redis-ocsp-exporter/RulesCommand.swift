import ArgumentParser
import RedisOCSPExporter

/// `redis-ocsp-exporter rules`: prints the alerting rules, generated from the definitions the
/// built-in evaluator runs, as a Prometheus rule file or a PrometheusRule.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the alerting rules as a Prometheus rule file (alerts/redis-ocsp.rules.yml) or a PrometheusRule."
    )

    @Option(name: .customLong("format"), help: "prometheus (a rule file) or prometheusrule (a prometheus-operator object).")
    var format: RuleFile.Format = .prometheus

    func run() {
        print(RuleFile.render(format), terminator: "")
    }
}

extension RuleFile.Format: ExpressibleByArgument {}
