@testable import RedisOCSPExporter
import NIOSSL
import Testing

/// Settings that weaken what the exporter protects load, with a warning naming file, line and
/// field; the REST and Alertmanager clients speak TLS 1.2 at least unless told otherwise.
@Suite(.tags(.unit))
struct SecurityWarningsTests {
    @Test func weakSettingsAreNamed() throws {
        let config = try ConfigLoader.load(yaml: """
            clusters:
              - {name: a, url: "https://re.example.com:9443", username: u, password: hunter2-SECRET}
              - name: b
                url: "http://re.example.com:8080"
                username: u
                password_env: RE_PASSWORD
                tls: {insecure_skip_verify: true}
            """, source: "c.yml", environment: ["RE_PASSWORD": "s"])
        #expect(config.warnings.count == 3, "\(config.warnings)")
        #expect(config.warnings.contains { $0.hasPrefix("c.yml: line 2: clusters[0] (a).password: the password is written in the configuration file") })
        #expect(config.warnings.contains { $0.hasPrefix("c.yml: line 4: clusters[1] (b).url: credentials go over plain http://") })
        #expect(config.warnings.contains { $0.hasPrefix("c.yml: line 7: clusters[1] (b).tls.insecure_skip_verify: the server's certificate is not verified") })
        #expect(!config.warnings.joined().contains("hunter2"))
    }

    @Test func aSafeConfigurationHasNoWarnings() throws {
        let config = try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: \"https://x\", username: u, password_env: P}\n",
                                           source: "c.yml", environment: ["P": "s"])
        #expect(config.warnings.isEmpty)
    }

    @Test func clientsRequireTLS12UnlessLowered() throws {
        let config = try ConfigLoader.load(yaml: """
            clusters:
              - {name: a, url: "https://x"}
              - {name: old, url: "https://y", tls: {min_version: TLS10}}
            alertmanager: {urls: ["https://am"]}
            """, source: "c.yml")
        #expect(config.clusters[0].tls.minimumTLSVersion == .tlsv12)
        #expect(config.clusters[1].tls.minimumTLSVersion == .tlsv1)
        #expect(config.alertmanager?.tls.minimumTLSVersion == .tlsv12)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: \"https://x\", tls: {min_version: SSL3}}\n", source: "c") }
    }

    /// The round bound's earlier name still loads, with a warning naming the new one.
    @Test func theRoundBoundsEarlierNameIsAccepted() throws {
        let config = try ConfigLoader.load(yaml: "max_concurrent_requests: 3\nclusters:\n  - {name: a, url: \"https://x\"}\n", source: "c.yml")
        #expect(config.maxConcurrentRounds == 3)
        #expect(config.warnings == ["c.yml: line 1: max_concurrent_requests: is now named max_concurrent_rounds (clusters' REST rounds in flight at once)"])
        #expect(throws: ConfigError.self) {
            try ConfigLoader.load(yaml: "max_concurrent_requests: 3\nmax_concurrent_rounds: 4\nclusters:\n  - {name: a, url: \"https://x\"}\n", source: "c")
        }
    }
}
