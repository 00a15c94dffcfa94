import Foundation
import HTTPTypes
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

    /// Every request reads the configuration and looks at its files once a second; neither
    /// may count as a change of its metrics, or /metrics would be rendered again (and
    /// compressed again) every second. A load does.
    @Test func onlyALoadChangesTheWebConfigurationsMetrics() async throws {
        let path = directory.appendingPathComponent("web-\(UUID().uuidString).yml").path
        let users = "basic_auth_users: {alice: $2b$05$se9slRlH2reYS0Aafm7coeqqj0CHYT4SyLjHbloRU/o54y47zsV/q}\n"
        try users.write(toFile: path, atomically: true, encoding: .utf8)
        let web = try WebConfigSource(file: path, logger: Logger(label: "web"), recheckInterval: .zero)
        let before = web.metricsVersion
        _ = web.config
        _ = web.configUnlessDue
        _ = await web.current()  // a look at files that did not change
        _ = await web.current()
        #expect(web.metricsVersion == before)
        try (users + "http_server_config: {headers: {X-Frame-Options: deny}}\n").write(toFile: path, atomically: true, encoding: .utf8)
        _ = await web.current()
        #expect(web.metricsVersion != before, "a load")
        #expect(web.config.headerFields[HTTPField.Name("X-Frame-Options")!] == "deny")
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
        ("http_server_config: {headers: {\"X Bad\": x}}", "http_server_config.headers.X Bad: is not a valid header name"),
        ("http_server_config: {headers: {X-Two: \"a\\nb\"}}", "http_server_config.headers.X-Two: must be a single line"),
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

/// Certificates and users replaced on disk take effect for new connections without a
/// restart; a broken replacement keeps the last good configuration and is counted.
extension WebSecurityTests {
    func shell(_ command: String) async throws -> String {
        try await Subprocess.run(["sh", "-c", command], allowFailure: true).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Replaces `path` the way cert-manager and editors do: a new file renamed over the old.
    func replace(_ path: String, with content: String) throws {
        try content.write(toFile: path + ".new", atomically: false, encoding: .utf8)
        _ = rename(path + ".new", path)
    }

    func hash(_ user: String, _ password: String) async throws -> String {
        try #require(try await TestCertificates.run("htpasswd", "-nbB", "-C", "5", user, password).split(separator: ":").last)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func renewedCertificatesAndChangedUsersAreServedWithoutARestart() async throws {
        let first = directory.appendingPathComponent("first"), second = directory.appendingPathComponent("second")
        for dir in [first, second] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let old = try await TestCertificates.makeServerAndClients(in: first)
        let new = try await TestCertificates.makeServerAndClients(in: second)
        let cert = directory.appendingPathComponent("tls.crt").path, key = directory.appendingPathComponent("tls.key").path
        try replace(cert, with: String(contentsOfFile: old["server"]!, encoding: .utf8))
        try replace(key, with: String(contentsOfFile: old["serverKey"]!, encoding: .utf8))
        let webFile = directory.appendingPathComponent("web.yml").path
        let tls = "tls_server_config: {cert_file: \(cert), key_file: \(key)}\n"
        try replace(webFile, with: tls + "basic_auth_users: {alice: \(try await hash("alice", "first"))}\n")
        var logger = Logger(label: "web")
        logger.logLevel = .critical  // the refused replacements below are meant
        // The files are looked at on every connection and request, not at most once a second:
        // each step below sees the files as just written.
        let web = try WebConfigSource(file: webFile, logger: logger, recheckInterval: .zero)

        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], web: web) { harness in
            let servedSerial = "openssl s_client -connect 127.0.0.1:\(harness.port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial"
            func serial(_ pem: String) async throws -> String { try await shell("openssl x509 -noout -serial -in \(pem)") }
            func status(_ ca: String, _ credentials: String) async throws -> String {
                try await shell("curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert \(ca) -u '\(credentials)' https://127.0.0.1:\(harness.port)/metrics")
            }
            func metric(_ ca: String, _ credentials: String, _ name: String) async throws -> Double? {
                Samples(try await shell("curl -s --max-time 10 --cacert \(ca) -u '\(credentials)' https://127.0.0.1:\(harness.port)/metrics"))[name]
            }
            #expect(try await shell(servedSerial) == serial(old["server"]!))
            #expect(try await status(old["ca"]!, "alice:first") == "200")

            // Renewed: the next connection gets the new certificate.
            try replace(cert, with: String(contentsOfFile: new["server"]!, encoding: .utf8))
            try replace(key, with: String(contentsOfFile: new["serverKey"]!, encoding: .utf8))
            #expect(try await shell(servedSerial) == serial(new["server"]!))
            #expect(try await status(new["ca"]!, "alice:first") == "200")
            #expect(try await metric(new["ca"]!, "alice:first", "redis_ocsp_exporter_web_config_last_reload_successful") == 1)

            // Half a renewal (a certificate whose key has not arrived) and a file that is not
            // a certificate: refused, counted, and the last good certificate stays.
            try replace(cert, with: String(contentsOfFile: old["server"]!, encoding: .utf8))
            #expect(try await shell(servedSerial) == serial(new["server"]!))
            try replace(cert, with: "not a certificate\n")
            #expect(try await shell(servedSerial) == serial(new["server"]!))
            #expect(try await metric(new["ca"]!, "alice:first", "redis_ocsp_exporter_web_config_reload_failures_total") == 2)
            #expect(try await metric(new["ca"]!, "alice:first", "redis_ocsp_exporter_web_config_last_reload_successful") == 0)

            // Fixed, and the users changed: the old password no longer opens, the new one does.
            try replace(cert, with: String(contentsOfFile: new["server"]!, encoding: .utf8))
            try replace(webFile, with: tls + "basic_auth_users: {bob: \(try await hash("bob", "second"))}\n")
            _ = try await status(new["ca"]!, "bob:second")  // the request that looks at the files
            #expect(try await status(new["ca"]!, "alice:first") == "401")
            #expect(try await status(new["ca"]!, "bob:second") == "200")
            #expect(try await metric(new["ca"]!, "bob:second", "redis_ocsp_exporter_web_config_last_reload_successful") == 1)

            // Switching TLS off is refused: the exporter never falls back to plain HTTP.
            try replace(webFile, with: "basic_auth_users: {bob: \(try await hash("bob", "second"))}\n")
            _ = try await status(new["ca"]!, "bob:second")
            #expect(try await status(new["ca"]!, "bob:second") == "200")
            #expect(try await shell("curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:\(harness.port)/metrics") == "000")
            #expect(try await metric(new["ca"]!, "bob:second", "redis_ocsp_exporter_web_config_last_reload_successful") == 0)
        }
    }
}
