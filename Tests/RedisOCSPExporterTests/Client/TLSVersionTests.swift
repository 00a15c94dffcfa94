import Foundation
import Logging
@testable import RedisOCSPExporter
import Testing

/// Against a real server that speaks only TLS 1.0 (`openssl s_server -tls1`), the REST client
/// refuses the handshake, so the credentials are never sent, unless `tls.min_version` lowers
/// the floor for that cluster.
@Suite
struct TLSVersionTests {
    @Test func aTLS10ServerIsRefusedUnlessTheFloorIsLowered() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls10-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try await TestCertificates.makeServerAndClients(in: directory)
        let port = try FreePort.reserveForChildProcess()
        // Security level 0: OpenSSL 3 refuses TLS 1.0 otherwise, as real old servers are set up to allow it.
        let server = try Subprocess.start(["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-www", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0",
                                           "-cert", files["server"]!, "-key", files["serverKey"]!])
        defer { Subprocess.stop(server) }
        try await RawConnection.waitUntilAccepting(port: port)

        var logger = Logger(label: "t")
        logger.logLevel = .critical
        func error(_ tls: String) async throws -> ClusterReport.EndpointError? {
            let config = try ConfigLoader.load(yaml: """
                timeout: \(ExporterHarness.timeout)
                clusters:
                  - {name: old, url: "https://127.0.0.1:\(port)", username: u, password: p, endpoints: [config],
                     tls: {ca_file: \(files["ca"]!)\(tls)}}
                """, source: "tls10.yml")
            let report = await OneShotCheck.run(config, stapling: false, logger: logger)
            return report.clusters.first?.errors.first { $0.endpoint == "config" }
        }
        let refused = try await error("")
        #expect(refused?.errorCode == CheckFailure.tlsError, "\(String(describing: refused))")
        // Lowered, the handshake completes; s_server's HTML page is then not the API's JSON.
        let lowered = try await error(", min_version: TLS10")
        #expect(lowered?.errorCode == CheckFailure.invalidResponse, "\(String(describing: lowered))")
    }
}
