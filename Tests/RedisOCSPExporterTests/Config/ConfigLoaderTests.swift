import Foundation
@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct ConfigLoaderTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-test-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func file(_ name: String, _ content: String) -> String {
        let path = directory.appendingPathComponent(name).path
        try! content.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func issues(_ yaml: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try ConfigLoader.load(yaml: yaml, source: "c.yml", environment: environment)
            return []
        } catch let error as ConfigError {
            return error.description.split(separator: "\n").map(String.init)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func fullExampleLoads() throws {
        let password = file("pw", "s3cret\n")
        let config = try ConfigLoader.load(yaml: """
            poll_interval: 45s
            timeout: 500ms
            clusters:
              - name: prod-east
                url: https://re-east.example.com:9443/
                username: ocsp-monitor@example.com
                password_file: \(password)
                poll_interval: 1m30s
                test_interval: 1h
                tls:
                  server_name: re.example.com
                  insecure_skip_verify: false
                labels: {region: us-east, tier: gold}
              - name: prod-west
                url: https://re-west.example.com:9443
                username: monitor
                password_env: WEST_PASSWORD
            """, source: "c.yml", environment: ["WEST_PASSWORD": "w"])
        #expect(config.clusters[1].pollInterval == .seconds(45), "the top-level default")
        #expect(config.clusters.count == 2)
        let east = config.clusters[0]
        #expect(east.baseURL == "https://re-east.example.com:9443")
        #expect(east.credentials?.password.value == "s3cret")
        #expect(east.pollInterval == .seconds(90))
        #expect(east.timeout == .milliseconds(500))
        #expect(east.testInterval == .seconds(3600))
        #expect(east.serverName == "re.example.com")
        #expect(east.labels.map(\.name) == ["region", "tier"])
        let west = config.clusters[1]
        #expect(west.pollInterval == .seconds(45))
        #expect(west.credentials?.password.value == "w")
        #expect(west.testInterval == nil)
        // The password never prints.
        #expect(!"\(east.credentials!)".contains("s3cret"))
    }

    @Test func everyProblemIsReportedWithFileLineClusterAndField() {
        let found = issues("""
            poll_interval: 30
            bogus: 1
            clusters:
              - name: a
                url: ftp://x
                password_file: /nonexistent/pw
                username: u
                labels: {"0bad": x, cluster: y, __meta: z}
                tls: {ca_file: /nonexistent/ca.pem, weird: 1}
              - name: a
                url: https://ok.example.com
              - url: https://noname.example.com
              - name: b
                url: "not a url"
                timeout: 5 minutes
                password: p
                password_env: P
            """)
        let expected = [
            "c.yml: line 1: poll_interval: \"30\" is not a duration",
            "c.yml: line 2: bogus: unknown field",
            "clusters[0] (a).url: scheme must be https",
            "clusters[0] (a).password_file: cannot read /nonexistent/pw: no such file",
            "clusters[0] (a).labels.0bad: \"0bad\" is not a valid Prometheus label name",
            "clusters[0] (a).labels.cluster: \"cluster\" is a label the exporter sets itself",
            "clusters[0] (a).labels.__meta: \"__meta\" is not a valid Prometheus label name",
            "clusters[0] (a).tls.weird: unknown field",
            "clusters[0] (a).tls.ca_file: cannot read /nonexistent/ca.pem: no such file",
            "clusters[1] (a).name: duplicate cluster name, already used by clusters[",
            "clusters[2].name: is required",
            "clusters[3] (b).url: \"not a url\" is not an absolute URL",
            "clusters[3] (b).timeout: \"5 minutes\" is not a duration",
            "clusters[3] (b).password_env: set only one of password, password_file and password_env",
        ]
        for fragment in expected {
            #expect(found.contains { $0.contains(fragment) }, "missing: \(fragment)\nfound:\n\(found.joined(separator: "\n"))")
        }
        #expect(found.allSatisfy { $0.hasPrefix("c.yml: line ") }, "\(found)")
    }

    @Test(arguments: [
        ("clusters: []", "clusters: must list at least one cluster"),
        ("poll_interval: 1s", "clusters: is required"),
        ("clusters: {a: 1}", "clusters: must be a list"),
        ("clusters:\n  - name: a\n    url: https://x\n    poll_interval: 0s", "poll_interval: must be greater than 0"),
        ("clusters:\n  - name: a\n    url: https://u:p@x", "must not carry credentials"),
        ("clusters:\n  - name: a\n    url: https://x\n    username: u", "a username needs password_file"),
        ("clusters:\n  - name: a\n    url: https://x\n    password: p", "username: is required when a password is set"),
        ("clusters:\n  - name: a\n    url: https://x\n    username: u\n    password_env: NOPE", "environment variable NOPE is not set"),
        ("clusters:\n  - name: a\n    url: https://x\n    tls: {cert_file: /c}", "key_file: is required with cert_file"),
        ("clusters:\n  - name: a\n    url: https://x\n    username: u\n    password_file: /dev/zero", "password_file: cannot read /dev/zero: is not a regular file"),
        ("clusters:\n  - name: a\n    url: https://x\n    tls: {ca_file: /tmp}", "ca_file: cannot read /tmp: is a directory"),
        ("clusters:\n  - name: a\n    url: https://x\n    tls: {insecure_skip_verify: maybe}", "must be true or false"),
        ("max_concurrent_rounds: 0\nclusters:\n  - name: a\n    url: https://x", "must be between 1 and 10000"),
        ("max_idle_connections: -1\nclusters:\n  - name: a\n    url: https://x", "line 1: max_idle_connections: must be between 0 and 1000000"),
        ("max_idle_connections: many\nclusters:\n  - name: a\n    url: https://x", "line 1: max_idle_connections:"),
        ("clusters:\n  - name: a\n    url: https://x\n    name: b", "line 4, column 5: duplicate key \"name\""),
        ("clusters: [", "not valid YAML"),
        ("- just\n- a list", "must be a mapping"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {server_name: x}", "stapling_probe.endpoints: is required"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: []}", "stapling_probe.endpoints: must list at least one"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: db:12000}", "stapling_probe.endpoints: must be a list"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [db]}", "stapling_probe.endpoints[0]: \"db\" is not host:port"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:0\"]}", "is not host:port"),
        ("clusters:\n  - name: a\n    url: https://x\n    responder_probe: {}", "clusters[0] (a).responder_probe: needs stapling_probe"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"]}\n    responder_probe: {url: ldap://ocsp}",
         "responder_probe.url: scheme must be"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"]}\n    responder_probe: {interval: 0s}",
         "responder_probe.interval"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:99999\"]}", "is not host:port"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"::1:443\"]}", "is not host:port"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\", \"db:1\"]}", "endpoints[1]: db:1 is listed twice"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"], timeout: 0s}", "stapling_probe.timeout: must be greater than 0"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"], ca_file: /nonexistent}", "stapling_probe.ca_file: cannot read /nonexistent"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"], server_name: \"a:1\"}", "stapling_probe.server_name: must be a host name"),
        ("clusters:\n  - name: a\n    url: https://x\n    stapling_probe: {endpoints: [\"db:1\"], intervall: 1m}", "stapling_probe.intervall: unknown field"),
        ("clusters:\n  - {name: a, url: \"https://x\", endpoints: [config, bogus]}", "endpoints[1]: \"bogus\" is not one of config, status, nodes, alerts, cluster, health"),
        ("clusters:\n  - {name: a, url: \"https://x\", endpoints: [test]}", "the test call is chosen by test_interval"),
        ("clusters:\n  - {name: a, url: \"https://x\", endpoints: [nodes, nodes]}", "endpoints[1]: nodes is listed twice"),
        ("clusters:\n  - {name: a, url: \"https://x\", endpoints: nodes}", "endpoints: must be a list"),
        ("clusters:\n  - {name: a, url: \"https://x\", labels: {alert: x}}", "a label the exporter sets itself"),
    ])
    func rejects(_ yaml: String, _ fragment: String) {
        let found = issues(yaml)
        #expect(found.contains { $0.contains(fragment) }, "expected \(fragment) in \(found)")
    }

    /// A 1 KB file whose mapping keys are aliases of a large node took the previous YAML
    /// parser minutes of CPU (its duplicate-key check compares the expanded keys).
    @Test func aliasKeysAreRefusedAtOnce() {
        var yaml = "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n"
        for level in 1...9 {
            yaml += "x\(level): &x\(level) [" + Array(repeating: "*x\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        yaml += "clusters:\n  - name: a\n    url: https://x\n    labels:\n      ? *x9\n      : 1\n      ? *x9\n      : 2\n"
        #expect(issues(yaml) == ["c.yml: not valid YAML: line 15, column 9: a mapping key must be a plain string, not an alias, a sequence or a mapping"])
    }

    @Test func staplingProbeSectionAndItsDefaults() throws {
        let config = try ConfigLoader.load(yaml: """
            poll_interval: 45s
            timeout: 5s
            clusters:
              - name: a
                url: https://x
                stapling_probe:
                  endpoints: ["redis-12000.re.example.com:12000", "[2001:db8::1]:443", "10.0.0.7:9443"]
              - name: b
                url: https://y
                stapling_probe: {endpoints: ["y:443"], server_name: re.example.com, timeout: 2s, interval: 5m}
            """, source: "c.yml")
        let a = try #require(config.clusters[0].staplingProbe)
        #expect(a.endpoints.map(\.description) == ["redis-12000.re.example.com:12000", "[2001:db8::1]:443", "10.0.0.7:9443"])
        #expect(a.endpoints[1].host == "2001:db8::1")
        #expect(a.interval == .seconds(45))
        #expect(a.timeout == .seconds(5))
        #expect(a.serverName == nil)
        let b = try #require(config.clusters[1].staplingProbe)
        #expect(b.serverName == "re.example.com")
        #expect(b.timeout == .seconds(2))
        #expect(b.interval == .seconds(300))
    }

    @Test func durations() throws {
        for (text, expected) in [("500ms", Duration.milliseconds(500)), ("2s", .seconds(2)), ("1m", .seconds(60)),
                                 ("1h30m", .seconds(5400)), ("1d", .seconds(86400)), ("1w", .seconds(604_800))] {
            let config = try ConfigLoader.load(yaml: "poll_interval: \(text)\nclusters:\n  - {name: a, url: https://x}", source: "c")
            #expect(config.clusters[0].pollInterval == expected, "\(text)")
        }
        for bad in ["1", "s", "1.5s", "-1s", "1s1h", "1x", "99999999999999h"] {
            #expect(issues("poll_interval: \"\(bad)\"\nclusters:\n  - {name: a, url: https://x}").contains { $0.contains("is not a duration") }, "\(bad)")
        }
    }

    @Test func singleClusterFlagsAreValidatedLikeAFile() throws {
        let password = file("pw", "flagpw")
        let config = try ConfigLoader.load(flags: SingleClusterFlags(
            name: "one", url: "https://re.example.com:9443", username: "u", passwordFile: password, caFile: nil, insecureSkipVerify: true
        ))
        #expect(config.clusters.first?.credentials?.password.value == "flagpw")
        #expect(throws: ConfigError.self) {
            try ConfigLoader.load(flags: SingleClusterFlags(
                name: "one", url: "https://re.example.com", username: "u", passwordFile: "/nonexistent", caFile: nil, insecureSkipVerify: false
            ))
        }
    }

    /// Without max_idle_connections, a fleet up to 1,000 clusters keeps every connection and a
    /// larger one none (an open connection costs about 30 KB); with it, the first that many.
    @Test func idleConnectionsDefaultToTheWholeFleetUpToAThousand() throws {
        func config(_ count: Int, _ top: String = "") throws -> ExporterConfig {
            try ConfigLoader.load(yaml: top + "clusters:\n" + (0..<count).map { "  - {name: c\($0), url: \"https://c\($0)\"}\n" }.joined(),
                                  source: "c.yml")
        }
        #expect(try config(1000).idleConnections == 1000)
        #expect(try config(1001).idleConnections == 0)
        #expect(try config(1001, "max_idle_connections: 10\n").idleConnections == 10)
        #expect(try config(3, "max_idle_connections: 0\n").idleConnections == 0)
        #expect(try config(3, "max_idle_connections: 10\n").idleConnections == 10)
    }

    @Test func loadsCAAndClientCertificateFiles() async throws {
        let (ca, cert, key) = try await TestCertificates.make(in: directory)
        let config = try ConfigLoader.load(yaml: """
            clusters:
              - name: a
                url: https://x
                tls: {ca_file: \(ca), cert_file: \(cert), key_file: \(key)}
            """, source: "c")
        #expect(config.clusters.count == 1)
        let garbage = file("garbage.pem", "not a certificate")
        #expect(issues("clusters:\n  - name: a\n    url: https://x\n    tls: {ca_file: \(garbage)}").contains { $0.contains("ca_file: \(garbage) holds no valid PEM certificate") })
    }

    @Test func rulesAndAlertmanagerSections() throws {
        let token = file("token", "abc\n")
        let config = try ConfigLoader.load(yaml: """
            evaluation_interval: 5s
            clusters:
              - {name: a, url: "https://x"}
            rules:
              RedisOCSPResponseExpiringSoon: {threshold: 2h, for: 5m, severity: warning}
              RedisOCSPDisabled: {enabled: false}
              RedisClusterCertificateExpiring: {threshold: 14d}
              RedisOCSPUnsupportedNodes: {min_software_version: "6.2.0"}
              RedisOCSPCertRevoked:
                labels: {team: storage}
                annotations: {runbook_url: "https://runbooks.example.com/{{ $labels.cluster }}"}
            alertmanager:
              urls: [http://alertmanager:9093, "https://am2.example.com"]
              timeout: 3s
              resend_interval: 2m
              external_labels: {site: eu1}
              bearer_token_file: \(token)
              queue_capacity: 50
            """, source: "c.yml")
        #expect(config.evaluationInterval == .seconds(5))
        #expect(config.rules[.responseExpiringSoon].threshold == .fixed(.seconds(7200)))
        #expect(config.rules[.clusterCertificateExpiring].threshold == .fixed(.seconds(14 * 86_400)))
        let auto = try ConfigLoader.load(yaml: "clusters: [{name: a, url: \"https://x\"}]\nrules: {RedisOCSPResponseExpiringSoon: {threshold: auto}}", source: "c")
        #expect(auto.rules[.responseExpiringSoon].threshold == .auto)
        #expect(config.rules[.disabled].enabled == false)
        #expect(config.rules[.unsupportedNodes].minSoftwareVersion == "6.2.0")
        #expect(config.rules[.certRevoked].labels.map(\.name) == ["team"])
        #expect(config.rules[.certRevoked].annotations["summary"] != nil)
        #expect(config.rules[.apiDown].forDuration == .seconds(600))
        let am = try #require(config.alertmanager)
        #expect(am.urls == ["http://alertmanager:9093", "https://am2.example.com"])
        #expect(am.resendInterval == .seconds(120))
        #expect(am.authorization?.value == "Bearer abc")
        #expect(am.queueCapacity == 50)
        #expect(am.externalLabels.map(\.name) == ["site"])
        #expect(try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: https://x}", source: "c").alertmanager == nil)
    }

    @Test(arguments: [
        ("rules: {RedisOCSPBogus: {}}", "rules.RedisOCSPBogus: unknown field"),
        ("rules: {RedisOCSPDisabled: {threshold: 1h}}", "rules.RedisOCSPDisabled.threshold: unknown field"),
        ("rules: {RedisOCSPDisabled: {for: soon}}", "rules.RedisOCSPDisabled.for: \"soon\" is not a duration"),
        ("rules: {RedisOCSPResponseExpiringSoon: {threshold: soon}}", "rules.RedisOCSPResponseExpiringSoon.threshold: \"soon\" is neither a duration (e.g. 30m, 2h) nor auto"),
        ("rules: {RedisClusterCertificateExpiring: {threshold: auto}}", "rules.RedisClusterCertificateExpiring.threshold: \"auto\" is not a duration"),
        ("rules: {RedisOCSPUnsupportedNodes: {min_software_version: latest}}", "is not a version like 7.8.2"),
        ("rules: {RedisOCSPDisabled: {labels: {cluster: x}}}", "is a label the exporter sets itself"),
        ("rules: {RedisOCSPDisabled: {severity: \"\"}}", "severity: must not be empty"),
        ("alertmanager: {timeout: 1s}", "alertmanager.urls: must list at least one Alertmanager URL"),
        ("alertmanager: {urls: [\"ftp://x\"]}", "alertmanager.urls[0]: scheme must be https"),
        ("alertmanager: {urls: [http://x], bearer_token_file: /nonexistent}", "alertmanager.bearer_token_file: cannot read /nonexistent: no such file"),
        ("alertmanager: {urls: [http://x], bearer_token_file: /t, basic_auth: {username: u, password: p}}", "set only one of basic_auth and bearer_token_file"),
        ("alertmanager: {urls: [http://x], external_labels: {alertname: x}}", "is a label the exporter sets itself"),
        ("alertmanager: {urls: [http://x], tls: {server_name: x}}", "alertmanager.tls.server_name: unknown field"),
    ])
    func rejectsBadAlertingSettings(_ section: String, _ fragment: String) {
        let found = issues("clusters:\n  - {name: a, url: \"https://x\"}\n" + section)
        #expect(found.contains { $0.contains(fragment) }, "expected \(fragment) in \(found)")
    }
    func bytesFile(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// A secret file that is not UTF-8, or empty, stops the load; it is never read as no
    /// secret (which would send no Authorization header).
    @Test func secretFilesThatCannotBeDecodedAreRefused() {
        let latin1 = bytesFile("latin1", Array("caf".utf8) + [0xE9, 0x0A])
        let empty = file("empty", "\n")
        for path in [latin1, empty] {
            let reason = path == latin1 ? "is not UTF-8 text" : "is empty"
            let password = issues("clusters:\n  - {name: a, url: \"https://x\", username: u, password_file: \(path)}")
            #expect(password.contains { $0.contains("clusters[0] (a).password_file: cannot read \(path): \(reason)") }, "\(password)")
            let token = issues("clusters:\n  - {name: a, url: \"https://x\"}\nalertmanager: {urls: [http://x], bearer_token_file: \(path)}")
            #expect(token.contains { $0.contains("alertmanager.bearer_token_file: cannot read \(path): \(reason)") }, "\(token)")
        }
    }

    /// password_file and bearer_token_file share one rule: the line endings at the end go,
    /// anything else (spaces too) is part of the secret.
    @Test func secretFilesAreTrimmedByOneRule() throws {
        for (content, expected) in [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret\n\n", "s3cret"), (" two words ", " two words ")] {
            let path = file("secret-\(UUID().uuidString)", content)
            let config = try ConfigLoader.load(yaml: """
                clusters:
                  - {name: a, url: "https://x", username: u, password_file: \(path)}
                alertmanager: {urls: [http://x], bearer_token_file: \(path)}
                """, source: "c.yml")
            #expect(config.clusters[0].credentials?.password.value == expected, "\(content.debugDescription)")
            #expect(config.alertmanager?.authorization?.value == "Bearer " + expected, "\(content.debugDescription)")
        }
    }

    @Test func aConfigurationFileThatIsNotUTF8IsRefused() {
        let path = bytesFile("latin1.yml", Array("# caf".utf8) + [0xE9] + Array("\nclusters:\n  - {name: a, url: \"https://x\"}\n".utf8))
        #expect(throws: ConfigError.self) { try ConfigLoader.load(file: path) }
        do {
            _ = try ConfigLoader.load(file: path)
        } catch {
            #expect("\(error)" == "\(path): cannot read the file: is not UTF-8 text")
        }
    }

    /// File paths may name environment variables: systemd's LoadCredential= hands secrets over
    /// in ${CREDENTIALS_DIRECTORY}, whose path is known only when the service starts.
    @Test func filePathsNameEnvironmentVariables() throws {
        _ = file("prod-east", "from systemd\n")
        let yaml = "clusters:\n  - {name: a, url: \"https://x\", username: u, password_file: \"${CREDENTIALS_DIRECTORY}/prod-east\"}"
        let config = try ConfigLoader.load(yaml: yaml, source: "c.yml", environment: ["CREDENTIALS_DIRECTORY": directory.path])
        #expect(config.clusters[0].credentials?.password.value == "from systemd")
        #expect(issues(yaml) == ["c.yml: line 2: clusters[0] (a).password_file: environment variable CREDENTIALS_DIRECTORY (in \"${CREDENTIALS_DIRECTORY}/prod-east\") is not set"])
        #expect(issues("clusters:\n  - {name: a, url: \"https://x\", tls: {ca_file: \"${X/ca.pem\"}}").contains { $0.contains("tls.ca_file: \"${X/ca.pem\" has ${ without a closing }") })
    }
}
