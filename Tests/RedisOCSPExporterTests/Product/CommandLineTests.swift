import AsyncHTTPClient
import Foundation
import NIOCore
import OCSPSimulator
import Testing

/// The built binary, run as a user runs it.
@Suite(.serialized)
struct CommandLineTests {
    static let contractFamilies = [
        "redis_ocsp_enabled", "redis_ocsp_responder_url_configured", "redis_ocsp_config_info",
        "redis_ocsp_query_frequency_seconds", "redis_ocsp_response_timeout_seconds", "redis_ocsp_recovery_frequency_seconds",
        "redis_ocsp_recovery_max_tries", "redis_ocsp_cert_status", "redis_ocsp_produced_at_timestamp_seconds",
        "redis_ocsp_this_update_timestamp_seconds", "redis_ocsp_next_update_timestamp_seconds",
        "redis_ocsp_revocation_timestamp_seconds", "redis_ocsp_supported", "redis_ocsp_node_info", "redis_ocsp_nodes",
        "redis_ocsp_api_up", "redis_ocsp_api_error", "redis_ocsp_api_errors_total", "redis_ocsp_api_request_duration_seconds",
        "redis_ocsp_last_success_timestamp_seconds", "redis_ocsp_alerts", "redis_ocsp_exporter_build_info", "process_resident_memory_bytes",
        "process_cpu_seconds_total", "process_open_fds", "process_max_fds", "process_start_time_seconds",
        "process_virtual_memory_bytes", "redis_ocsp_cluster_alert", "redis_ocsp_cluster_alert_enabled",
        "redis_ocsp_cluster_alert_change_timestamp_seconds", "redis_ocsp_access_level",
    ]
    /// The responder probe's families, which the demo also shows.
    static let responderFamilies = [
        "redis_ocsp_responder_up", "redis_ocsp_responder_request_duration_seconds", "redis_ocsp_responder_cert_status",
        "redis_ocsp_responder_this_update_timestamp_seconds", "redis_ocsp_responder_next_update_timestamp_seconds",
        "redis_ocsp_responder_error", "redis_ocsp_responder_errors_total",
    ]

    func scrape(_ port: Int, _ path: String = "/metrics") async throws -> String {
        let response = try await ExporterHarness.client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    @Test func demoServesEveryContractFamilyAndStopsCleanlyOnSIGTERM() async throws {
        let exporter = try ExporterProcess(["--demo", "--web.listen-address=127.0.0.1:0"])
        let port = try await exporter.listeningPort()
        try await waitUntil("the demo to be ready") { try await scrape(port, "/-/ready") == "Ready.\n" }
        let text = try await scrape(port)
        for family in Self.contractFamilies + Self.responderFamilies {
            #expect(text.contains("# TYPE \(family) "), "demo lacks \(family)")
        }
        let (status, output) = try await Promtool.checkMetrics(text)
        #expect(status == 0, "\(output)")
        for scenario in ["healthy", "disabled", "unsupported", "revoked", "stale", "unauthorized", "query-failed", "certs-expiring", "viewer"] {
            #expect(text.contains("cluster=\"demo-\(scenario)\""), "demo lacks \(scenario)")
        }
        #expect(text.contains("redis_ocsp_api_error{cluster=\"demo-unauthorized\",environment=\"demo\",endpoint=\"config\",error_code=\"http_401\"} 1"))
        // The viewer-only cluster: nodes, cluster alerts and the stapled view, and it says so.
        for line in ["redis_ocsp_access_level{cluster=\"demo-viewer\",environment=\"demo\",level=\"viewer\"} 1",
                     "redis_ocsp_access_level{cluster=\"demo-healthy\",environment=\"demo\",level=\"admin\"} 1",
                     "redis_ocsp_access_level{cluster=\"demo-unauthorized\",environment=\"demo\",level=\"none\"} 1",
                     "redis_ocsp_nodes{cluster=\"demo-viewer\",environment=\"demo\"} 3",
                     "redis_ocsp_cluster_alert{cluster=\"demo-query-failed\",environment=\"demo\",alert=\"cluster_ocsp_query_failed\"} 1",
                     "redis_ocsp_stapled_response_present{cluster=\"demo-viewer\",environment=\"demo\",endpoint=",
                     // Reached through a node that redirects to its master.
                     "redis_ocsp_api_up{cluster=\"demo-healthy\",environment=\"demo\",endpoint=\"status\"} 1",
                     "redis_ocsp_api_answered_by_info{cluster=\"demo-healthy\",environment=\"demo\",endpoint=\"status\",address=\"127.0.0.1:"] {
            #expect(text.contains(line), "demo lacks \(line)")
        }
        #expect(!text.contains("redis_ocsp_api_up{cluster=\"demo-viewer\",environment=\"demo\",endpoint=\"status\""))
        exporter.signal(SIGTERM)
        #expect(try await exporter.waitForExit(timeout: .seconds(15)) == 0)
        #expect(exporter.stderr.contains("msg=stopped"))
        // Tasks run on the event loops, not on a pool of their own (see ExporterApp.runConcurrencyOnEventLoops).
        #expect(exporter.stderr.contains("executor=event_loops"))
    }

    @Test func configCheck() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let good = dir.appendingPathComponent("good.yml").path
        try "clusters:\n  - {name: a, url: \"https://re.example.com:9443\"}\n".write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await ExporterProcess.run(["--config.file=\(good)", "--config.check"])
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("config OK"))

        let bad = dir.appendingPathComponent("bad.yml").path
        try "clusters:\n  - {name: a, url: \"https://x\", labels: {\"bad-name\": v}}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try await ExporterProcess.run(["--config.file=\(bad)", "--config.check"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("\(bad): line 2: clusters[0] (a).labels.bad-name"), "\(failed.stderr)")

        // Without --config.check an invalid configuration refuses to start, with the same message.
        let refused = try await ExporterProcess.run(["--config.file=\(bad)", "--web.listen-address=127.0.0.1:0"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("labels.bad-name"))

        let nothing = try await ExporterProcess.run([])
        #expect(nothing.status == 1)
        #expect(nothing.stderr.contains("--config.file"))

        let badFlag = try await ExporterProcess.run(["--log.format=xml", "--demo"])
        #expect(badFlag.status != 0)
        #expect(badFlag.stderr.contains("--log.format"))

        let version = try await ExporterProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.contains("0."))
    }

    /// `rules` prints the committed rule files, in either format.
    @Test func rulesPrintsTheCommittedFiles() async throws {
        let root = ExporterProcess.packageRoot
        let prometheus = try await ExporterProcess.run(["rules"])
        #expect(prometheus.status == 0)
        #expect(prometheus.stdout == (try String(contentsOf: root.appendingPathComponent("alerts/redis-ocsp.rules.yml"), encoding: .utf8)))
        let operator_ = try await ExporterProcess.run(["rules", "--format=prometheusrule"])
        #expect(operator_.stdout == (try String(contentsOf: root.appendingPathComponent("examples/kubernetes/base/prometheusrule.yaml"), encoding: .utf8)))
        #expect(try await ExporterProcess.run(["rules", "--format=json"]).status != 0)
    }

    /// `check` as a pipeline or a plugin runs it: exit status of the worst cluster, the
    /// clusters picked by --cluster, the same sources as the exporter, usage errors UNKNOWN.
    @Test func checkExitsWithThePluginStatus() async throws {
        let secret = "pw-\(UUID().uuidString)"
        let clusters = [SimulatedCluster(name: "healthy", scenario: .healthy, password: secret),
                        SimulatedCluster(name: "expiring", scenario: .expiring, password: secret),
                        SimulatedCluster(name: "revoked", scenario: .revoked, password: secret)]
        let simulator = try await SimulatorServer.start(clusters)
        defer { Task { await simulator.stop() } }
        let files = try SimulatorFiles(simulator, password: secret, prefix: "cli")
        let (dir, ca, passwordFile) = (files.directory, files.ca, files.passwordFile)
        let file = dir.appendingPathComponent("c.yml").path
        try ("clusters:\n" + clusters.map {
            "  - {name: \($0.name), url: \"\(simulator.urls[$0.name]!)\", username: \($0.username), password_file: \(passwordFile), tls: {ca_file: \(ca)}}\n"
        }.joined()).write(toFile: file, atomically: true, encoding: .utf8)

        let all = try await ExporterProcess.run(["check", "--config.file=\(file)"])
        #expect(all.status == 2, "\(all.stdout) \(all.stderr)")
        #expect(all.stdout.hasPrefix("3 clusters: 1 OK, 1 WARNING, 1 CRITICAL, 0 UNKNOWN"))
        #expect(!all.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        let warning = try await ExporterProcess.run(["check", "--config.file=\(file)", "--cluster=expiring", "--cluster=healthy", "--format=nagios"])
        #expect(warning.status == 1)
        #expect(warning.stdout.hasPrefix("REDIS-OCSP WARNING - expiring WARNING: RedisOCSPResponseExpiringSoon; healthy OK | expiring_next_update_seconds="))
        let json = try await ExporterProcess.run(["check", "--config.file=\(file)", "--cluster=healthy", "--format=json"])
        #expect(json.status == 0)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["status"] as? String == "OK")
        // One cluster from the environment, as the exporter takes it.
        let env = try await ExporterProcess.run(["check"], environment: [
            "REDIS_OCSP_CLUSTER_URL": simulator.urls["revoked"]!, "REDIS_OCSP_CLUSTER_NAME": "from-env",
            "REDIS_OCSP_CLUSTER_USERNAME": clusters[2].username, "REDIS_OCSP_CLUSTER_PASSWORD_FILE": passwordFile,
            "REDIS_OCSP_CLUSTER_CA_FILE": ca,
        ])
        #expect(env.status == 2)
        #expect(env.stdout.contains("from-env: CRITICAL"))
        for output in [all, warning, json, env] {
            #expect(!(output.stdout + output.stderr).contains(secret), "the password appears in check's output")
        }

        let unknownName = try await ExporterProcess.run(["check", "--config.file=\(file)", "--cluster=nope"])
        #expect(unknownName.status == 3)
        #expect(unknownName.stderr.contains("no cluster named \"nope\""))
        let badFlag = try await ExporterProcess.run(["check", "--config.file=\(file)", "--format=xml"])
        #expect(badFlag.status == 3)
        #expect(badFlag.stderr.contains("--format"))
        let badConfig = try await ExporterProcess.run(["check", "--config.file=\(dir.path)/missing.yml"])
        #expect(badConfig.status == 3)
        #expect(badConfig.stderr.contains("missing.yml"))
        let closed = try await ExporterProcess.run(["check", "--cluster.url=https://127.0.0.1:\(try FreePort.reserve())", "--cluster.insecure-skip-verify"])
        #expect(closed.status == 3)
        #expect(closed.stdout.contains("default: UNKNOWN"))
    }

    /// One cluster from environment variables; the password never shows in any output.
    @Test func singleClusterFromEnvironmentAndSecretsStayHidden() async throws {
        let secret = "hunter2-\(UUID().uuidString)"
        let good = SimulatedCluster(name: "env", scenario: .healthy, password: secret)
        let simulator = try await SimulatorServer.start([good])
        let files = try SimulatorFiles(simulator, password: secret, prefix: "cli")
        let (ca, passwordFile) = (files.ca, files.passwordFile)
        let exporter = try ExporterProcess(["--web.listen-address=127.0.0.1:0", "--log.level=debug", "--log.format=json"], environment: [
            "REDIS_OCSP_CLUSTER_URL": simulator.urls["env"]!, "REDIS_OCSP_CLUSTER_NAME": "from-env",
            "REDIS_OCSP_CLUSTER_USERNAME": good.username, "REDIS_OCSP_CLUSTER_PASSWORD_FILE": passwordFile,
            "REDIS_OCSP_CLUSTER_CA_FILE": ca,
        ])
        let port = try await exporter.listeningPort(timeout: .seconds(30)).self
        var text = ""
        try await waitUntil("the cluster's first round") {
            text = try await scrape(port)
            return text.contains("redis_ocsp_cert_status{cluster=\"from-env\",status=\"GOOD\"} 1")
        }
        #expect(text.contains("redis_ocsp_cert_status{cluster=\"from-env\",status=\"GOOD\"} 1"))
        // Now make the cluster reject the credentials, so errors get logged too.
        good.scenario = .unauthorized
        let landing = try await scrape(port, "/")
        exporter.signal(SIGINT)
        #expect(try await exporter.waitForExit(timeout: .seconds(15)) == 0)
        await simulator.stop()
        let base64 = Data("\(good.username):\(secret)".utf8).base64EncodedString()
        for (name, output) in [("metrics", text), ("landing page", landing), ("stdout", exporter.stdout), ("stderr", exporter.stderr)] {
            #expect(!output.contains(secret), "the password appears in \(name)")
            #expect(!output.contains(base64), "the Authorization header appears in \(name)")
        }
        // JSON logs are one object per line.
        for line in exporter.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "not JSON: \(line)")
        }
    }

    /// SIGHUP reloads the file and re-reads password files.
    @Test func sighupReloadsTheConfigurationAndRereadsPasswordFiles() async throws {
        let clusters = [SimulatedCluster(name: "one", scenario: .healthy), SimulatedCluster(name: "two", scenario: .revoked)]
        let simulator = try await SimulatorServer.start(clusters)
        let files = try SimulatorFiles(simulator, password: "simulated\n", prefix: "cli")
        let (ca, passwordFile, configFile) = (files.ca, files.passwordFile, files.path("config.yml"))
        func writeConfig(_ names: [String]) throws {
            try ("poll_interval: 300ms\nclusters:\n" + names.map {
                "  - {name: \($0), url: \"\(simulator.urls[$0]!)\", username: ocsp-monitor@example.com, password_file: \(passwordFile), tls: {ca_file: \(ca)}}\n"
            }.joined()).write(toFile: configFile, atomically: true, encoding: .utf8)
        }
        try writeConfig(["one"])
        let exporter = try ExporterProcess(["--config.file=\(configFile)", "--web.listen-address=127.0.0.1:0"])
        let port = try await exporter.listeningPort()
        func waitForMetric(_ series: String, _ value: Double) async throws -> Bool {
            try await waitUntil("\(series) to be \(value)") { Samples(try await scrape(port))[series] == value }
            return true
        }
        #expect(try await waitForMetric("redis_ocsp_cert_status{cluster=\"one\",status=\"GOOD\"}", 1))

        try writeConfig(["one", "two"])
        try "rotated-elsewhere\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        exporter.signal(SIGHUP)
        #expect(try await waitForMetric("redis_ocsp_api_error{cluster=\"one\",endpoint=\"config\",error_code=\"http_401\"}", 1))
        // The added cluster is polled, with the rotated (here: wrong) password.
        #expect(try await waitForMetric("redis_ocsp_api_error{cluster=\"two\",endpoint=\"config\",error_code=\"http_401\"}", 1))
        #expect(Samples(try await scrape(port))["redis_ocsp_exporter_config_last_reload_successful"] == 1)
        exporter.signal(SIGTERM)
        #expect(try await exporter.waitForExit(timeout: .seconds(15)) == 0)
        #expect(exporter.stderr.contains("configuration reloaded"))
        await simulator.stop()
    }
}
