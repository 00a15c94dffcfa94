import Foundation
import Logging
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// --web.config.file, checked with curl and openssl as clients.
@Suite(.serialized)
struct WebSecurityTests {
    let directory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    func webConfig(_ yaml: String) throws -> WebConfigSource {
        let path = directory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try WebConfigSource(file: path, logger: Logger(label: "web"))
    }

    /// HTTP status curl got, or nil when the connection or handshake failed.
    func curl(_ url: String, _ options: [String]) async throws -> (status: Int?, headers: String) {
        let output = try await Subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "-w", "\n%{http_code}", "--max-time", "10"] + options + [url],
                                              allowFailure: true).output
        let code = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (code == 0 ? nil : code, output)
    }

    @Test func tlsBasicAuthAndHeaders() async throws {
        let certs = try await TestCertificates.makeServerAndClients(in: directory)
        let hashLine = try await TestCertificates.run("htpasswd", "-nbB", "-C", "5", "alice", "correct horse")
        let hash = try #require(hashLine.split(separator: ":").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let web = try webConfig("""
            tls_server_config:
              cert_file: \(certs["server"]!)
              key_file: \(certs["serverKey"]!)
            basic_auth_users:
              alice: \(hash)
            http_server_config:
              headers:
                X-Frame-Options: DENY
                Strict-Transport-Security: max-age=31536000
            """)
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], web: web) { harness in
            let url = "https://127.0.0.1:\(harness.port)/metrics"
            let ca = ["--cacert", certs["ca"]!]
            #expect(try await curl(url, ca).status == 401)
            #expect(try await curl(url, ca + ["-u", "alice:wrong"]).status == 401)
            #expect(try await curl(url, ca + ["-u", "mallory:correct horse"]).status == 401)
            let ok = try await curl(url, ca + ["-u", "alice:correct horse"])
            #expect(ok.status == 200)
            #expect(ok.headers.lowercased().contains("x-frame-options: deny"))
            #expect(ok.headers.lowercased().contains("strict-transport-security: max-age=31536000"))
            // The unauthenticated answer carries the headers too, and every route is guarded.
            #expect(try await curl("https://127.0.0.1:\(harness.port)/", ca).headers.lowercased().contains("x-frame-options: deny"))
            #expect(try await curl("https://127.0.0.1:\(harness.port)/api/v1/alerts", ca).status == 401)
            // Plain HTTP to the TLS port gets no answer.
            #expect(try await curl("http://127.0.0.1:\(harness.port)/metrics", []).status == nil)

            // TLS 1.0 and 1.1 are refused by the server even when the client offers them.
            for version in ["-tls1", "-tls1_1"] {
                let old = try await Subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:\(harness.port)", version,
                                                    "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", certs["ca"]!, "-brief"], allowFailure: true).output
                #expect(!old.contains("Protocol version:"), "\(version) was accepted: \(old)")
            }
            let modern = try await Subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:\(harness.port)", "-tls1_2",
                                                   "-CAfile", certs["ca"]!, "-brief"], allowFailure: true).output
            #expect(modern.contains("Protocol version: TLSv1.2"), "\(modern)")
        }
    }

    @Test func clientCertificatesAreRequiredAndVerified() async throws {
        let certs = try await TestCertificates.makeServerAndClients(in: directory)
        let web = try webConfig("""
            tls_server_config:
              cert_file: \(certs["server"]!)
              key_file: \(certs["serverKey"]!)
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: \(certs["ca"]!)
              min_version: TLS13
            """)
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], web: web) { (harness: ExporterHarness) async throws in
            let url = "https://127.0.0.1:\(harness.port)/-/healthy"
            let ca = ["--cacert", certs["ca"]!]
            #expect(try await curl(url, ca).status == nil, "no client certificate")
            #expect(try await curl(url, ca + ["--cert", certs["otherClient"]!, "--key", certs["otherClientKey"]!]).status == nil,
                    "a client certificate from another CA")
            #expect(try await curl(url, ca + ["--cert", certs["client"]!, "--key", certs["clientKey"]!]).status == 200)
            #expect(try await curl(url, ca + ["--cert", certs["client"]!, "--key", certs["clientKey"]!, "--tls-max", "1.2"]).status == nil,
                    "TLS 1.2 below min_version TLS13")
        }
    }

    @Test(arguments: [
        ("basic_auth_users: {alice: plaintext}", "basic_auth_users.alice: is not a bcrypt hash"),
        ("tls_server_config: {cert_file: /nonexistent}", "tls_server_config.cert_file: cannot read /nonexistent: no such file"),
        ("tls_server_config: {cipher_suites: [x]}", "tls_server_config.cipher_suites: unknown field"),
        ("http_server_config: {headers: {Content-Type: x}}", "is set by the exporter"),
        ("nope: 1", "nope: unknown field"),
    ])
    func invalidWebConfigsAreRefused(_ yaml: String, _ fragment: String) throws {
        do {
            _ = try webConfig(yaml)
            Issue.record("accepted: \(yaml)")
        } catch let error as ConfigError {
            #expect(error.description.contains(fragment), "\(error)")
            #expect(!error.description.contains("plaintext"), "the hash value is repeated in the message")
        }
    }
    /// A web configuration that cannot be decoded stops the exporter: read as an empty
    /// document it would serve without TLS and without authentication.
    @Test func aWebConfigurationThatIsNotUTF8IsRefused() throws {
        let path = directory.appendingPathComponent("latin1.yml").path
        let yaml = Array("# Gr".utf8) + [0xFC, 0xDF] + Array("e\nbasic_auth_users: {alice: x}\n".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(yaml))
        do {
            _ = try WebConfig.load(file: path)
            Issue.record("accepted a web configuration that is not UTF-8")
        } catch let error as ConfigError {
            #expect(error.description == "\(path): cannot read the file: is not UTF-8 text")
        }
    }
}
