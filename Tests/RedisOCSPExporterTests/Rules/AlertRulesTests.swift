import Foundation
import Logging
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing
import Yams

/// alerts/ against promtool, and against the built-in evaluator.
@Suite(.serialized)
struct AlertRulesTests {
    static let rulesFile = ExporterProcess.packageRoot.appendingPathComponent("alerts/redis-ocsp.rules.yml").path
    static let rulesTestFile = ExporterProcess.packageRoot.appendingPathComponent("alerts/redis-ocsp.rules.test.yml").path

    static func promtool(_ arguments: [String]) async throws -> (Int32, String) {
        try await Subprocess.run(["promtool"] + arguments, allowFailure: true)
    }

    @Test func promtoolChecksAndTestsTheRules() async throws {
        let (checkStatus, checkOutput) = try await Self.promtool(["check", "rules", Self.rulesFile])
        #expect(checkStatus == 0, "\(checkOutput)")
        let (testStatus, testOutput) = try await Self.promtool(["test", "rules", Self.rulesTestFile])
        #expect(testStatus == 0, "\(testOutput)")
    }

    /// alerts/ and the Kubernetes PrometheusRule are what `redis-ocsp-exporter rules` writes
    /// from the rule definitions: a changed definition without regenerated files fails here.
    @Test func committedRuleFilesAreGeneratedFromTheDefinitions() throws {
        let root = ExporterProcess.packageRoot
        #expect(try String(contentsOfFile: Self.rulesFile, encoding: .utf8) == RuleFile.render(.prometheus),
                "run: redis-ocsp-exporter rules > alerts/redis-ocsp.rules.yml")
        #expect(try String(contentsOf: root.appendingPathComponent("examples/kubernetes/base/prometheusrule.yaml"), encoding: .utf8)
                == RuleFile.render(.prometheusRule),
                "run: redis-ocsp-exporter rules --format=prometheusrule > examples/kubernetes/base/prometheusrule.yaml")
    }

    /// Every rule has an entry in docs/runbooks.md, and its runbook_url points there.
    @Test func everyAlertHasARunbookEntry() throws {
        let runbooks = try String(contentsOf: ExporterProcess.packageRoot.appendingPathComponent("docs/runbooks.md"), encoding: .utf8)
        let headings = Set(runbooks.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { $0.dropFirst(3).lowercased() })
        for rule in Rule.all {
            #expect(headings.contains(rule.name.lowercased()), "docs/runbooks.md has no entry for \(rule.name)")
            #expect(rule.annotations()["runbook_url"] == Rule.defaultRunbookBase + "#" + rule.name.lowercased())
        }
        #expect(Rule.defaultRunbookBase.hasSuffix("/docs/runbooks.md"))
    }

    /// `rules.runbook_base_url` moves every built-in rule's link, except where a rule's own
    /// annotations set one.
    @Test func runbookBaseURLIsConfigurable() throws {
        let config = try ConfigLoader.load(yaml: """
            clusters: [{name: a, url: "https://x"}]
            rules:
              runbook_base_url: https://wiki.example.com/ocsp
              RedisOCSPDisabled: {for: 1m}
              RedisOCSPCertRevoked: {annotations: {runbook_url: "https://pager.example.com/revoked"}}
            """, source: "r.yml")
        #expect(config.rules[.disabled].annotations["runbook_url"] == "https://wiki.example.com/ocsp#redisocspdisabled")
        #expect(config.rules[.responseStale].annotations["runbook_url"] == "https://wiki.example.com/ocsp#redisocspresponsestale")
        #expect(config.rules[.certRevoked].annotations["runbook_url"] == "https://pager.example.com/revoked")
        #expect(throws: ConfigError.self) {
            try ConfigLoader.load(yaml: "clusters: [{name: a, url: \"https://x\"}]\nrules: {runbook_base_url: wiki}", source: "r.yml")
        }
    }

    /// For every simulator scenario, the alerts the built-in evaluator fires are exactly those
    /// Prometheus fires from alerts/ over the same exposition.
    @Test func builtInEvaluatorAndPrometheusAgreeOnEveryScenario() async throws {
        // One frozen moment for the clusters, the exporter and both evaluators: a threshold
        // that a scenario's times sit on is crossed by neither, however long the test takes.
        let frozen = Int64(Date().timeIntervalSince1970)
        let clusters = Scenario.allCases.map {
            SimulatedCluster(name: $0.rawValue, scenario: $0, slowDelay: .seconds(5), changePeriod: .seconds(3600), clock: { frozen })
        }
        let testClusters = ["healthy", "no_responder_url", "task_queued", "unsupported"]
        // One poll round: the scrape and the snapshots must show the same data.
        try await ExporterHarness.with(clusters, pollInterval: "1h",
                                       extraClusterYAML: Dictionary(uniqueKeysWithValues: testClusters.map { ($0, "test_interval: 1h") })
                                           .merging(ExporterHarness.slowClusterYAML) { $1 }, now: { Double(frozen) }) { harness in
            try await harness.waitForRounds(1)
            let fired = try await Self.expectAgreement(harness, now: Double(frozen))
            #expect(fired == Set(Rule.builtIn).subtracting(Rule.probeRules), "every API rule should fire in some scenario")
        }
    }

    /// `threshold: auto` built in, and the PromQL alerts/README.md gives for it, fire alike.
    @Test func autoThresholdAgreesWithItsDocumentedExpression() async throws {
        let readme = try String(contentsOf: ExporterProcess.packageRoot.appendingPathComponent("alerts/README.md"), encoding: .utf8)
        let block = try #require(readme.components(separatedBy: "<!-- expiring-soon-auto -->\n```promql\n").dropFirst().first)
        let expression = try #require(block.components(separatedBy: "```").first)
        var rules = try String(contentsOfFile: Self.rulesFile, encoding: .utf8)
        let fixed = "        expr: redis_ocsp_next_update_timestamp_seconds - time() >= 0 < 3600 and on (cluster) redis_ocsp_enabled == 1\n"
        #expect(rules.contains(fixed))
        let indented = expression.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n")
        rules = rules.replacingOccurrences(of: fixed, with: "        expr: |\n\(indented)\n")
        var settings = RuleSettings(.responseExpiringSoon)
        settings.threshold = .auto

        // Between the fixed hour and the auto cycle (3600 + 60 * 5 s): only auto fires there.
        let frozen = Int64(Date().timeIntervalSince1970)
        let between = SimulatedCluster(name: "between", scenario: .healthy, certificate: CertificateStatus(
            certStatus: "GOOD", producedAt: frozen - 60, thisUpdate: frozen - 60, nextUpdate: frozen + 3750), clock: { frozen })
        let clusters = Scenario.allCases.map {
            SimulatedCluster(name: $0.rawValue, scenario: $0, slowDelay: .seconds(5), changePeriod: .seconds(3600), clock: { frozen })
        } + [between]
        try await ExporterHarness.with(clusters, pollInterval: "1h", extraClusterYAML: ExporterHarness.slowClusterYAML, now: { Double(frozen) }) { harness in
            try await harness.waitForRounds(1)
            let file = harness.directory.appendingPathComponent("auto.rules.yml").path
            try rules.write(toFile: file, atomically: true, encoding: .utf8)
            let fired = try await Self.expectAgreement(harness, rulesFile: file, rules: RulesConfig(overrides: [.responseExpiringSoon: settings]),
                                                       now: Double(frozen))
            #expect(fired.contains(.responseExpiringSoon))
            let snapshot = try #require(harness.app.store.read().entries.first { $0.snapshot.name == "between" }?.snapshot)
            let now = Double(frozen)
            #expect(!Rule.responseExpiringSoon.conditions(snapshot, now: now, settings: settings).isEmpty)
            #expect(Rule.responseExpiringSoon.conditions(snapshot, now: now, settings: RuleSettings(.responseExpiringSoon)).isEmpty)
        }
    }

    /// Checks that the alerts the built-in evaluator fires over the harness's snapshots are
    /// exactly those Prometheus fires from alerts/ over the same exposition: the scraped
    /// samples become a promtool test whose expected alerts are the evaluator's. Returns the
    /// rules that fired.
    static func expectAgreement(_ harness: ExporterHarness, rulesFile: String = rulesFile,
                                rules: RulesConfig = RulesConfig(), now: Double) async throws -> Set<Rule> {
        let exposition = try await harness.metricsText()
        let evalOffset = 900.0  // past every rule's `for`

        // Built-in: the same snapshots, evaluated 15 minutes apart.
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let evaluator = RuleEngine(rules: rules, resendInterval: .seconds(60), logger: logger)
        var firing: [Alert] = []
        for entry in harness.app.store.read().entries {
            _ = evaluator.evaluate(entry.snapshot, now: now - evalOffset)
            firing += evaluator.evaluate(entry.snapshot, now: now).active.filter { $0.state == .firing }
        }

        // Prometheus: the scraped samples as constant series, timestamps moved so that
        // time() at the evaluation equals `now`.
        var yaml = "rule_files: [\"\(rulesFile)\"]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n"
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard line.hasPrefix("redis_ocsp_"), !line.hasPrefix("redis_ocsp_alerts"), !line.contains("_bucket{"),
                  let space = line.lastIndex(of: " "), var value = Double(line[line.index(after: space)...])
            else { continue }
            let series = String(line[..<space])
            if series.split(separator: "{")[0].hasSuffix("_timestamp_seconds") { value = value - now + evalOffset }
            yaml += "      - series: '\(series.replacingOccurrences(of: "'", with: "''"))'\n"
            yaml += "        values: '\(Exposition.formatValue(value))x20'\n"
        }
        yaml += "    alert_rule_test:\n"
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        for rule in Rule.builtIn {
            yaml += "      - eval_time: \(Int(evalOffset))s\n        alertname: \(rule.name)\n"
            let alerts = firing.filter { $0.rule == rule }
            yaml += alerts.isEmpty ? "        exp_alerts: []\n" : "        exp_alerts:\n"
            for alert in alerts {
                let labels = alert.labels.filter { $0.name != "alertname" }.map { "\($0.name): \(quoted($0.value))" }
                yaml += "          - exp_labels: {\(labels.joined(separator: ", "))}\n"
                // Annotations only the built-in evaluator can add are not in alerts/.
                let shared = alert.annotations.filter { rule.annotations().keys.contains($0.key) }
                yaml += "            exp_annotations: {\(shared.sorted { $0.key < $1.key }.map { "\($0.key): \(quoted($0.value))" }.joined(separator: ", "))}\n"
            }
        }
        let file = harness.directory.appendingPathComponent("consistency.test.yml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try await promtool(["test", "rules", file])
        #expect(status == 0, "built-in evaluator and alerts/ disagree:\n\(output)")
        return Set(firing.map(\.rule))
    }
}

extension Rule {
    static let stapleRules: Set<Rule> = [.stapleMissing, .stapleInvalid, .stapleMismatch, .stapleStale]
    /// The rules that need a stapling probe (or the responder probe, which needs one).
    static let probeRules = stapleRules.union([.proxyCertificateMismatch, .signerExpiring, .responderDown, .revocationLag])
}
