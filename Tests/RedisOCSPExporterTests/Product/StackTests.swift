import Foundation
@testable import RedisOCSPExporter
import Testing
import Yams

/// The whole monitoring stack with the real programs: the simulator and the exporter as
/// built binaries, Prometheus scraping the exporter with alerts/ loaded, Alertmanager
/// receiving Prometheus's alerts. Everything is checked through their HTTP APIs.
@Suite(.serialized)
struct StackTests {
    /// Scenario per cluster, and the alerts of alerts/ each must fire ("name" or "name/endpoint").
    static let expectedAlerts: [String: Set<String>] = [
        "healthy": [], "disabled": ["RedisOCSPDisabled"], "unsupported": ["RedisOCSPUnsupportedNodes"],
        "revoked": ["RedisOCSPCertRevoked", "RedisOCSPClientsFailSoon"], "unknown": ["RedisOCSPCertStatusUnknown"], "stale": ["RedisOCSPResponseStale"],
        "expiring": ["RedisOCSPResponseExpiringSoon"], "no_responder_url": ["RedisOCSPNoResponderURL"],
        "server_error": ["RedisOCSPAPIDown/config", "RedisOCSPAPIDown/status", "RedisOCSPAPIDown/nodes", "RedisOCSPAPIDown/alerts", "RedisOCSPAPIDown/cluster", "RedisOCSPAPIDown/health"],
        "query_failed": ["RedisOCSPQueryFailing", "RedisOCSPClientsFailSoon"], "certs_expiring": ["RedisClusterCertificateExpiring"],
    ]

    /// Which clusters each family of the contract must have series for.
    static func expectedClusters(_ family: String) -> Set<String> {
        let all = Set(expectedAlerts.keys)
        let statusOK: Set<String> = ["healthy", "disabled", "revoked", "unknown", "stale", "expiring", "query_failed", "certs_expiring"]
        let configOK = statusOK.union(["no_responder_url"])
        switch family {
        case "redis_ocsp_enabled", "redis_ocsp_responder_url_configured", "redis_ocsp_config_info", "redis_ocsp_query_frequency_seconds",
             "redis_ocsp_response_timeout_seconds", "redis_ocsp_recovery_frequency_seconds", "redis_ocsp_recovery_max_tries":
            return configOK
        case "redis_ocsp_cert_status", "redis_ocsp_produced_at_timestamp_seconds", "redis_ocsp_this_update_timestamp_seconds",
             "redis_ocsp_next_update_timestamp_seconds":
            return statusOK
        case "redis_ocsp_revocation_timestamp_seconds": return ["revoked"]
        case "redis_ocsp_supported", "redis_ocsp_node_info", "redis_ocsp_nodes", "redis_ocsp_last_success_timestamp_seconds",
             "redis_ocsp_cluster_alert", "redis_ocsp_cluster_alert_enabled", "redis_ocsp_cluster_alert_change_timestamp_seconds":
            return all.subtracting(["server_error"])
        case "redis_ocsp_api_error", "redis_ocsp_api_errors_total": return ["unsupported", "no_responder_url", "server_error"]
        case "redis_ocsp_alerts": return all.subtracting(["healthy"])
        default: return all  // api_up, the request duration histogram, the access level
        }
    }

    @Test func prometheusAndAlertmanagerSeeWhatTheExporterExports() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = ExporterProcess.packageRoot

        // The simulator binary, one cluster per scenario.
        let ca = dir.appendingPathComponent("ca.pem").path
        // The healthy cluster's proxies serve the stapling server's certificate.
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let simulator = try ExporterProcess(
            ["--ca-out", ca, "--proxy-certificate", "healthy=\(pki.path("leaf.pem"))"]
                + Self.expectedAlerts.keys.sorted().flatMap { ["--cluster", "\($0)=\($0)"] },
            executable: "redis-ocsp-simulator"
        )
        defer { simulator.signal(SIGTERM) }
        var urls: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while urls.count < Self.expectedAlerts.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            for line in simulator.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 3 { urls[String(parts[0])] = String(parts[2]) }
            }
        }
        try #require(urls.count == Self.expectedAlerts.count, "simulator did not list its clusters: \(simulator.stdout) \(simulator.stderr)")

        // The exporter binary with a configuration file.
        let passwordFile = dir.appendingPathComponent("password").path
        try "simulated\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        // The healthy cluster's stapling probe sees a real stapling server and one that is down.
        let stapling = "{endpoints: [\"127.0.0.1:\(try await pki.startServer(.good))\", \"127.0.0.1:\(try FreePort.reserve())\"], "
            + "server_name: localhost, ca_file: \(pki.path("ca.pem"))}"
        // Its responder probe asks the real responder; the stale cluster's proxy does not answer,
        // so its responder probe has no certificate to ask about.
        let probes = [
            "healthy": ", stapling_probe: \(stapling), responder_probe: {interval: 1s}",
            "stale": ", stapling_probe: {endpoints: [\"127.0.0.1:\(try FreePort.reserve())\"], timeout: 1s}, responder_probe: {interval: 1s}",
        ]
        // No scenario needs a request to time out: a short timeout on a starved machine made a
        // healthy cluster's poll fail and show series of api_error where none belong.
        var config = "poll_interval: 1s\ntimeout: \(ExporterHarness.timeout)\nclusters:\n"
        for (name, url) in urls.sorted(by: { $0.key < $1.key }) {
            config += "  - {name: \(name), url: \"\(url)\", username: ocsp-monitor@example.com, password_file: \(passwordFile), tls: {ca_file: \(ca)}"
            config += (probes[name] ?? "") + "}\n"
        }
        let configFile = dir.appendingPathComponent("exporter.yml").path
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        let exporter = try ExporterProcess(["--config.file=\(configFile)", "--web.listen-address=127.0.0.1:0"])
        defer { exporter.signal(SIGTERM) }
        let exporterPort = try await exporter.listeningPort()

        let alertmanager = try await AlertmanagerProcess()
        defer { alertmanager.stop() }

        // Prometheus, with the example scrape configuration pointed at this exporter and the
        // rules of alerts/. `for` is dropped from the copy: promtool's tests cover the
        // durations; here every alert should fire within seconds.
        let rules = try String(contentsOf: root.appendingPathComponent("alerts/redis-ocsp.rules.yml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("for:") }
            .joined(separator: "\n")
        let rulesFile = dir.appendingPathComponent("rules.yml").path
        try rules.write(toFile: rulesFile, atomically: true, encoding: .utf8)
        var prometheusConfig = try #require(try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("examples/prometheus.yml"), encoding: .utf8)) as? [String: Any])
        prometheusConfig["global"] = ["scrape_interval": "1s", "evaluation_interval": "1s"]
        var scrapeConfigs = try #require(prometheusConfig["scrape_configs"] as? [[String: Any]])
        scrapeConfigs[0]["static_configs"] = [["targets": ["127.0.0.1:\(exporterPort)"]]]
        // And the multi-target example: two clusters scraped through /probe.
        let probeExample = try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("examples/prometheus-probe.yml"), encoding: .utf8))
        var probeJob = try #require(((probeExample as? [String: Any])?["scrape_configs"] as? [[String: Any]])?.first)
        probeJob["static_configs"] = [["targets": ["healthy", "revoked"]]]
        probeJob["scrape_timeout"] = "1s"
        var relabels = try #require(probeJob["relabel_configs"] as? [[String: Any]])
        relabels[relabels.count - 1]["replacement"] = "127.0.0.1:\(exporterPort)"
        probeJob["relabel_configs"] = relabels
        let probeJobName = try #require(probeJob["job_name"] as? String)
        scrapeConfigs.append(probeJob)
        prometheusConfig["scrape_configs"] = scrapeConfigs
        prometheusConfig["rule_files"] = [rulesFile]
        prometheusConfig["alerting"] = ["alertmanagers": [["static_configs": [["targets": ["127.0.0.1:\(alertmanager.port)"]]]]]]
        let prometheus = try await PrometheusProcess(config: try Yams.dump(object: prometheusConfig), directory: dir)
        defer { prometheus.stop() }
        let job = try #require(scrapeConfigs[0]["job_name"] as? String)

        // The target is up and scraped without errors.
        try await eventually("the exporter target to be up") {
            let targets = (try await prometheus.api("targets") as? [String: Any])?["activeTargets"] as? [[String: Any]] ?? []
            return targets.count == 3 && targets.allSatisfy { $0["health"] as? String == "up" && ($0["lastError"] as? String ?? "").isEmpty }
        }
        try await eventually("the probed clusters to show their own state") {
            let revoked = try await prometheus.query("redis_ocsp_cert_status{job=\"\(probeJobName)\", instance=\"revoked\", cluster=\"revoked\", status=\"REVOKED\"} == 1")
            let healthy = try await prometheus.query("redis_ocsp_cert_status{job=\"\(probeJobName)\", instance=\"healthy\", status=\"GOOD\"} == 1")
            return revoked.count == 1 && healthy.count == 1
        }

        // Every family of the contract, for the right clusters.
        try await eventually("every cluster's first poll to be scraped") {
            try await prometheus.query("count by (cluster) (redis_ocsp_api_up)").count == Self.expectedAlerts.count
        }
        for family in CommandLineTests.contractFamilies {
            if family.hasPrefix("process_") || family == "redis_ocsp_exporter_build_info" {
                #expect(try await !prometheus.query("\(family){job=\"\(job)\"}").isEmpty, "Prometheus has no \(family)")
                continue
            }
            let name = family == "redis_ocsp_api_request_duration_seconds" ? family + "_count" : family
            var clusters: Set<String> = []
            // The exporter's own job: the /probe job asks with a 1 s scrape timeout, and on a
            // starved machine a probe of the healthy cluster times out and reports an api_error.
            let query = { clusters = Set(try await prometheus.query("count by (cluster) (\(name){job=\"\(job)\"})").compactMap { ($0["metric"] as? [String: String])?["cluster"] }) }
            if family == "redis_ocsp_alerts" {
                // Pending alerts count too: on a starved machine one late poll of the healthy
                // cluster makes one for a second. What must hold is where the alerts settle.
                try await eventually("the built-in alerts to settle on the clusters that have them") {
                    try await query()
                    return clusters == Self.expectedClusters(family)
                }
            } else {
                try await query()
            }
            let expected = Self.expectedClusters(family), unexpected = clusters.subtracting(expected)
            // The exporter's log lines of an unexpected cluster say what went wrong there.
            let logged = unexpected.isEmpty ? [] : exporter.stderr.split(separator: "\n").filter { line in unexpected.contains { line.contains("cluster=\($0)") } }
            #expect(clusters == expected, "\(family): missing \(expected.subtracting(clusters)), unexpected \(unexpected)\n\(logged.joined(separator: "\n"))")
        }
        // The stapled view: the healthy cluster's two endpoints, one down, and the stale one's, down.
        for family in ClusterFamily.allCases where family.name.contains("stapl") || family == .tlsCertNotAfter {
            let expected: [String] = switch family {
            case .stapledRevocationTime: []
            case .staplingProbeSuccess, .staplingProbeDuration: ["healthy", "healthy", "stale"]
            case .staplingProbeError, .staplingProbeErrorsTotal: ["healthy", "stale"]
            default: ["healthy"]
            }
            let clusters = try await prometheus.query("count by (cluster, endpoint) (\(family.name))").compactMap { ($0["metric"] as? [String: String])?["cluster"] }
            #expect(clusters.sorted() == expected, "\(family.name): \(clusters)")
        }

        // Every expected alert fires in Prometheus and reaches Alertmanager; no other does.
        let expected = Set(Self.expectedAlerts.flatMap { cluster, alerts in alerts.map { "\($0)@\(cluster)" } })
        func key(_ labels: [String: String]) -> String? {
            guard let name = labels["alertname"], name.hasPrefix("RedisOCSP") || Rule.named(name) != nil, let cluster = labels["cluster"] else { return nil }
            return name + (labels["endpoint"].map { "/\($0)" } ?? "") + "@\(cluster)"
        }
        var firing: Set<String> = []
        try await eventually("Prometheus to fire the expected alerts") {
            let alerts = (try await prometheus.api("alerts") as? [String: Any])?["alerts"] as? [[String: Any]] ?? []
            firing = Set(alerts.filter { $0["state"] as? String == "firing" }.compactMap { key($0["labels"] as? [String: String] ?? [:]) })
            return firing == expected
        }
        #expect(firing == expected, "Prometheus: missing \(expected.subtracting(firing)), unexpected \(firing.subtracting(expected))")
        var received: Set<String> = []
        try await eventually("Alertmanager to receive the alerts") {
            received = Set(try await alertmanager.alerts().compactMap { key($0["labels"] as? [String: String] ?? [:]) })
            return received == expected
        }
        #expect(received == expected, "Alertmanager: missing \(expected.subtracting(received)), unexpected \(received.subtracting(expected))")

        // Every PromQL expression of the dashboards, with variables as Grafana substitutes them,
        // parses and returns data.
        let substitutions = [
            "$cluster": "(" + urls.keys.sorted().joined(separator: "|") + ")", "$job": "(\(job))",
            "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
        ]
        try await expectEveryDashboardQueryReturnsData(prometheus, substitutions)

        // The example queries of the README and docs/, and the README's scrape configuration is the tested one.
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path).filter { $0.hasSuffix(".md") }
            .map { try String(contentsOf: root.appendingPathComponent("docs/\($0)"), encoding: .utf8) }
        let examples = ([readme] + docs).flatMap { DashboardQueries.codeBlocks($0, language: "promql") }.flatMap { $0.split(separator: "\n") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(examples.count >= 4)
        for example in examples {
            #expect(try await !prometheus.query(example).isEmpty, "README example returns nothing: \(example)")
        }
        let readmeScrape = try #require(DashboardQueries.codeBlocks(readme, language: "yaml").first { $0.contains("scrape_configs:") })
        let readmeJobs = (try Yams.load(yaml: readmeScrape) as? [String: Any])?["scrape_configs"] as? [[String: Any]]
        let exampleJobs = (try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("examples/prometheus.yml"), encoding: .utf8)) as? [String: Any])?["scrape_configs"] as? [[String: Any]]
        #expect(readmeJobs.map { NSArray(array: $0) } == exampleJobs.map { NSArray(array: $0) }, "README's scrape configuration differs from examples/prometheus.yml")
    }

    /// `--demo` as a new user runs it, scraped by the real Prometheus: every dashboard query
    /// returns data, the stapled view included.
    @Test func theDemoFillsEveryDashboardQuery() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("demo-stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = ExporterProcess.packageRoot
        let exporter = try ExporterProcess(["--demo", "--web.listen-address=127.0.0.1:0"])
        defer { exporter.signal(SIGTERM) }
        let port = try await exporter.listeningPort()
        var prometheusConfig = try #require(try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("examples/prometheus.yml"), encoding: .utf8)) as? [String: Any])
        prometheusConfig["global"] = ["scrape_interval": "1s", "evaluation_interval": "1s"]
        var scrapeConfigs = try #require(prometheusConfig["scrape_configs"] as? [[String: Any]])
        scrapeConfigs[0]["static_configs"] = [["targets": ["127.0.0.1:\(port)"]]]
        prometheusConfig["scrape_configs"] = Array(scrapeConfigs.prefix(1))
        let prometheus = try await PrometheusProcess(config: try Yams.dump(object: prometheusConfig), directory: dir)
        defer { prometheus.stop() }
        let job = try #require(scrapeConfigs[0]["job_name"] as? String)
        var clusters: [String] = []
        try await eventually("the demo's clusters to be scraped") {
            clusters = try await prometheus.query("count by (cluster) (redis_ocsp_api_up)").compactMap { ($0["metric"] as? [String: String])?["cluster"] }
            return clusters.count == 11  // the demo's clusters (DemoFleet.members)
        }
        try await expectEveryDashboardQueryReturnsData(prometheus, [
            "$cluster": "(" + clusters.sorted().joined(separator: "|") + ")", "$job": "(\(job))",
            "$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
        ])
    }

    /// Every PromQL expression of the dashboards, with variables as Grafana substitutes them,
    /// parses and returns data (rate windows need a few scrapes, hence the wait).
    func expectEveryDashboardQueryReturnsData(_ prometheus: PrometheusProcess, _ substitutions: [String: String]) async throws {
        let queries = try DashboardQueries.all(in: ExporterProcess.packageRoot.appendingPathComponent("dashboards"))
        #expect(queries.count >= 15)
        func emptyQueries() async throws -> [String] {
            var empty: [String] = []
            for (source, expression) in queries {
                var query = expression
                for (variable, value) in substitutions.sorted(by: { $0.key.count > $1.key.count }) {
                    query = query.replacingOccurrences(of: "${\(variable.dropFirst())}", with: value).replacingOccurrences(of: variable, with: value)
                }
                if let match = DashboardQueries.labelValues(query) {
                    let series = try await prometheus.api("series", [("match[]", match.selector)]) as? [[String: String]] ?? []
                    if !series.contains(where: { $0[match.label] != nil }) { empty.append("\(source): \(expression)") }
                } else if try await prometheus.query(query).isEmpty {
                    // A query Prometheus cannot parse throws above, with its error message.
                    empty.append("\(source): \(expression)")
                }
            }
            return empty
        }
        var empty: [String] = []
        try await eventually("every dashboard query to return data", timeout: .seconds(90)) {
            empty = try await emptyQueries()
            return empty.isEmpty
        }
        #expect(empty.isEmpty, "dashboard queries without data:\n\(empty.joined(separator: "\n"))")
    }

    func eventually(_ what: String, timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(500))
        }
        Issue.record("timed out waiting for \(what)")
    }
}

/// The PromQL a Grafana dashboard holds.
enum DashboardQueries {
    /// (where, expression) for every panel target and query variable of every dashboard.
    static func all(in directory: URL) throws -> [(String, String)] {
        var found: [(String, String)] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".json") {
            let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file))) as? [String: Any])
            func panels(_ list: [[String: Any]]) {
                for panel in list {
                    for target in panel["targets"] as? [[String: Any]] ?? [] {
                        if let expr = target["expr"] as? String { found.append(("\(file) panel \"\(panel["title"] ?? "")\"", expr)) }
                    }
                    panels(panel["panels"] as? [[String: Any]] ?? [])
                }
            }
            panels(dashboard["panels"] as? [[String: Any]] ?? [])
            for variable in (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] where variable["type"] as? String == "query" {
                let query = (variable["query"] as? [String: Any])?["query"] as? String ?? variable["query"] as? String ?? ""
                found.append(("\(file) variable $\(variable["name"] ?? "")", query))
            }
        }
        return found
    }

    /// `label_values(selector, label)`, Grafana's variable query, split into its parts.
    static func labelValues(_ query: String) -> (selector: String, label: String)? {
        guard query.hasPrefix("label_values("), query.hasSuffix(")"), let comma = query.lastIndex(of: ",") else { return nil }
        let selector = query[query.index(query.startIndex, offsetBy: 13)..<comma].trimmingCharacters(in: .whitespaces)
        let label = query[query.index(after: comma)..<query.index(before: query.endIndex)].trimmingCharacters(in: .whitespaces)
        return (selector, label)
    }

    /// The contents of the fenced code blocks of `language` in a Markdown text.
    static func codeBlocks(_ markdown: String, language: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```\(language)" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}
