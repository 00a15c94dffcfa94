import Foundation
import Logging
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// `check` against the simulator: the status and the problems of every scenario, the JSON
/// document, the plugin line, and a cluster that cannot be asked at all.
@Suite(.serialized)
struct OneShotCheckTests {
    /// Status and problems (alertname, or alertname/endpoint) per scenario.
    static let expected: [Scenario: (ClusterReport.Status, [String])] = [
        .healthy: (.ok, []), .changing: (.ok, []),
        .disabled: (.warning, ["RedisOCSPDisabled"]),  // stale cached answer, but OCSP is off
        .unsupported: (.warning, ["RedisOCSPUnsupportedNodes"]),
        .revoked: (.critical, ["RedisOCSPCertRevoked", "RedisOCSPClientsFailSoon"]),
        .unknown: (.critical, ["RedisOCSPCertStatusUnknown"]),
        .stale: (.critical, ["RedisOCSPResponseStale"]),
        .expiring: (.warning, ["RedisOCSPResponseExpiringSoon"]),
        .noResponderURL: (.warning, ["RedisOCSPNoResponderURL"]),
        .invalidOCSPResponse: (.warning, ["RedisOCSPAPIDown/status"]),
        .taskQueued: (.ok, []),  // only the test call fails, and a one-off run never makes it
        .queryFailed: (.critical, ["RedisOCSPClientsFailSoon", "RedisOCSPQueryFailing"]),  // the cached answer expires within the day
        .certsExpiring: (.warning, ["RedisClusterCertificateExpiring"]),
        .unauthorized: (.unknown, ["RedisOCSPAPIDown/alerts", "RedisOCSPAPIDown/cluster", "RedisOCSPAPIDown/config", "RedisOCSPAPIDown/health", "RedisOCSPAPIDown/nodes", "RedisOCSPAPIDown/status"]),
        .forbidden: (.warning, ["RedisOCSPAPIDown/config", "RedisOCSPAPIDown/status"]),
        .serverError: (.unknown, ["RedisOCSPAPIDown/alerts", "RedisOCSPAPIDown/cluster", "RedisOCSPAPIDown/config", "RedisOCSPAPIDown/health", "RedisOCSPAPIDown/nodes", "RedisOCSPAPIDown/status"]),
        .malformedJSON: (.warning, ["RedisOCSPAPIDown/status"]),
        .wrongTypes: (.warning, ["RedisOCSPAPIDown/config"]),
        .badDates: (.ok, []),
        .huge: (.warning, ["RedisOCSPAPIDown/nodes"]),
        .slow: (.unknown, ["RedisOCSPAPIDown/alerts", "RedisOCSPAPIDown/cluster", "RedisOCSPAPIDown/config", "RedisOCSPAPIDown/health", "RedisOCSPAPIDown/nodes", "RedisOCSPAPIDown/status"]),
    ]

    func run(_ clusters: [SimulatedCluster], extra: [String: String] = [:], stapling: Bool = false) async throws -> CheckReport {
        let simulator = try await SimulatorServer.start(clusters)
        let files = try SimulatorFiles(simulator, prefix: "check")
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let ca = files.ca
        var yaml = "timeout: \(ExporterHarness.timeout)\nclusters:\n"
        for cluster in clusters {
            yaml += "  - {name: \(cluster.name), url: \"\(simulator.urls[cluster.name]!)\", username: \(cluster.username), "
                + "password: \(cluster.password), tls: {ca_file: \(ca)}\(extra[cluster.name] ?? "")}\n"
        }
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let report = await OneShotCheck.run(try ConfigLoader.load(yaml: yaml, source: "check.yml"), stapling: stapling, logger: logger)
        await simulator.stop()
        return report
    }

    @Test func everyScenarioGetsItsStatusAndProblems() async throws {
        #expect(Set(Self.expected.keys) == Set(Scenario.allCases), "a scenario without an expectation")
        let clusters = Scenario.allCases.map { SimulatedCluster(name: $0.rawValue, scenario: $0, password: "pw-7f3a9c", slowDelay: .seconds(5)) }
        let report = try await run(clusters, extra: ["task_queued": ", test_interval: 1h", "slow": ", " + ExporterHarness.slowClusterYAML["slow"]!])
        for cluster in report.clusters {
            let scenario = try #require(Scenario(rawValue: cluster.cluster))
            let (status, problems) = try #require(Self.expected[scenario])
            #expect(cluster.status == status, "\(scenario)")
            let found = cluster.problems.flatMap { p in p.endpoints.isEmpty ? [p.alertname] : p.endpoints.map { "\(p.alertname)/\($0)" } }.sorted()
            #expect(found == problems, "\(scenario)")
            for problem in cluster.problems {
                #expect(problem.runbookURL.hasSuffix("#" + problem.alertname.lowercased()))
                #expect(!problem.summary.isEmpty && !problem.description.contains("{{"))
            }
        }
        #expect(report.status == .unknown, "the worst cluster wins")
        #expect(report.clusters.map(\.status) == report.clusters.map(\.status).sorted(by: >), "worst first")
        for output in [report.text(color: false), report.json(), report.nagios()] {
            #expect(!output.contains("pw-7f3a9c"), "no password in the report")
        }
    }

    /// An alert that holds for several endpoints is one line naming them, with the cause
    /// their error codes point to: refused credentials, or a role without the OCSP permissions.
    @Test func oneLinePerAlertWithItsCause() async throws {
        let report = try await run([SimulatedCluster(name: "unauthorized", scenario: .unauthorized),
                                    SimulatedCluster(name: "forbidden", scenario: .forbidden)])
        let text = report.text(color: false)
        let unauthorized = try #require(report.clusters.first { $0.cluster == "unauthorized" })
        #expect(unauthorized.problems.count == 1, "\(text)")
        #expect(unauthorized.problems.first?.endpoints == ["alerts", "cluster", "config", "health", "nodes", "status"])
        #expect(text.components(separatedBy: "RedisOCSPAPIDown").count - 1 == 2, "one line per cluster: \(text)")
        #expect(text.contains("WARNING RedisOCSPAPIDown (alerts, cluster, config, health, nodes, status): The REST API of cluster unauthorized fails for alerts, cluster, config, health, nodes, status\n"), "\(text)")
        #expect(text.contains("Cause: the credentials are refused (HTTP 401 on every endpoint): check the username and the password"), "\(text)")
        let forbidden = try #require(report.clusters.first { $0.cluster == "forbidden" })
        #expect(forbidden.problems.first?.endpoints == ["config", "status"])
        #expect(forbidden.problems.first?.cause?.contains("HTTP 403 on the OCSP endpoints only") == true, "\(text)")
        let json = report.json()
        #expect(json.contains("\"cause\""), "\(json)")
    }

    @Test func theReportNamesWhatToDo() async throws {
        let report = try await run([SimulatedCluster(name: "revoked", scenario: .revoked), SimulatedCluster(name: "unsupported", scenario: .unsupported)])
        let text = report.text(color: false)
        #expect(text.hasPrefix("2 clusters: 0 OK, 1 WARNING, 1 CRITICAL, 0 UNKNOWN\n"))
        #expect(text.contains("revoked: CRITICAL"))
        #expect(text.contains("CRITICAL RedisOCSPCertRevoked: The proxy certificate of cluster revoked is REVOKED"))
        #expect(text.contains("Runbook: \(Rule.certRevoked.runbookURL())"))
        #expect(text.contains("6.2.18-65  active  <- blocks OCSP"))
        #expect(text.contains("next update in "))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")
        #expect(report.text(color: true).contains("\u{1B}[31;1mCRITICAL\u{1B}[0m"))
    }

    @Test func jsonHasTheDocumentedKeys() async throws {
        let report = try await run([SimulatedCluster(name: "healthy", scenario: .healthy), SimulatedCluster(name: "revoked", scenario: .revoked)])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(Set(document.keys) == ["status", "exit_code", "clusters"])
        #expect(document["status"] as? String == "CRITICAL")
        #expect(document["exit_code"] as? Int == 2)
        let clusters = try #require(document["clusters"] as? [[String: Any]])
        let revoked = try #require(clusters.first { $0["cluster"] as? String == "revoked" })
        for key in ["cluster", "url", "status", "checked_at", "polled_at", "access_level", "refused_permissions", "ocsp_enabled", "supported", "cert_status",
                    "responder_url", "produced_at", "this_update", "next_update", "next_update_in_seconds", "revocation_time",
                    "next_update_warning_seconds", "nodes", "stapled", "errors", "problems"] {
            #expect(revoked[key] != nil, "no \(key)")
        }
        let problem = try #require((revoked["problems"] as? [[String: Any]])?.first)
        #expect(Set(problem.keys) == ["alertname", "severity", "status", "state", "labels", "endpoints", "summary", "description", "runbook_url"])
        #expect(problem["state"] as? String == "firing")
        let node = try #require((revoked["nodes"] as? [[String: Any]])?.first)
        #expect(Set(node.keys) == ["uid", "addr", "software_version", "status", "blocks_ocsp"])
    }

    @Test func nagiosLineCarriesPerformanceData() async throws {
        let one = try await run([SimulatedCluster(name: "expiring", scenario: .expiring)])
        let line = one.nagios()
        #expect(line.hasPrefix("REDIS-OCSP WARNING - expiring WARNING: RedisOCSPResponseExpiringSoon | next_update_seconds="))
        #expect(line.hasSuffix(";3600:;0:\n"))
        let left = try #require(Int(line.split(separator: "=").last!.split(separator: ";")[0]))
        #expect((1100...1200).contains(left))
    }

    /// A fleet is checked max_concurrent_rounds REST rounds at a time, as it is polled: of six
    /// clusters that answer after 1 s, the simulator sees two asked at once, never more.
    @Test func clustersAreCheckedWithinTheRoundBound() async throws {
        let gauge = InFlightGauge()
        let clusters = (1...6).map { SimulatedCluster(name: "slow\($0)", scenario: .slow, slowDelay: .seconds(1), inFlight: gauge) }
        let simulator = try await SimulatorServer.start(clusters)
        let files = try SimulatorFiles(simulator, prefix: "bound")
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let yaml = "max_concurrent_rounds: 2\ntimeout: \(ExporterHarness.timeout)\nclusters:\n" + clusters.map {
            "  - {name: \($0.name), url: \"\(simulator.urls[$0.name]!)\", username: \($0.username), password: \($0.password), tls: {ca_file: \(files.ca)}}\n"
        }.joined()
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let report = await OneShotCheck.run(try ConfigLoader.load(yaml: yaml, source: "bound.yml"), stapling: false, logger: logger)
        await simulator.stop()
        #expect(report.clusters.count == 6)
        #expect(report.clusters.allSatisfy { $0.status == .ok }, "\(report.text(color: false))")
        // Six clusters of 1 s each: while one pair is asked, the others are due, so two at once.
        #expect(gauge.peak == 2, "\(gauge.peak) clusters asked at once")
    }

    /// `check` and /probe take one path and one policy: they read, and leave the test call
    /// (which makes the cluster query its responder) to the scheduler's test_interval.
    @Test func oneOffRunsOnlyRead() async throws {
        let checked = SimulatedCluster(name: "checked", scenario: .healthy)
        _ = try await run([checked], extra: ["checked": ", test_interval: 1m"])
        let reads = RESTRound.selectable.count
        #expect(checked.requestCount == reads, "config, status, nodes, alerts and cluster")

        let probed = SimulatedCluster(name: "probed", scenario: .healthy)
        try await ExporterHarness.with([probed], pollInterval: "1h", extraClusterYAML: ["probed": "test_interval: 1h"]) { harness in
            try await harness.waitForRounds(1)
            try await waitUntil("the scheduler's first round with its test call") { probed.requestCount == reads + 1 }
            #expect(try await harness.get("/probe?target=probed").status == 200)
            #expect(probed.requestCount == 2 * reads + 1)
        }
    }

    /// A closed port is UNKNOWN, and the message says what the system said, as the stapling probe's does.
    @Test func aClosedPortIsUnknown() async throws {
        let port = try FreePort.reserve()
        let config = try ConfigLoader.load(yaml: "clusters: [{name: gone, url: \"https://127.0.0.1:\(port)\", tls: {insecure_skip_verify: true}, timeout: 2s}]", source: "c")
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let report = await OneShotCheck.run(config, stapling: false, logger: logger)
        #expect(report.status == .unknown)
        #expect(report.status.exitCode == 3)
        #expect(report.clusters.first?.errors.first?.errorCode == CheckFailure.connectionFailed)
        #expect(report.clusters.first?.errors.first?.message == "cannot connect to 127.0.0.1:\(port): Connection refused")
        #expect(report.nagios().hasPrefix("REDIS-OCSP UNKNOWN - gone UNKNOWN: "))
    }
}
