import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// The responder probe against the real `openssl ocsp` responder, and against servers that
/// answer what a responder must not.
@Suite(.serialized)
struct ResponderProbeTests {
    /// The leaf and issuer a handshake with the case's server shows.
    static func certificates(_ pki: StaplingPKI, _ server: StaplingPKI.Server) async throws -> SeenCertificates {
        let port = try await pki.startServer(server)
        let config = StaplingProbeTests.probeConfig(caFile: pki.path("ca.pem"))
        let (result, _) = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(port)")!, config: config, keepCertificates: true)
        return try #require(try result.get().certificates)
    }

    /// Answers every POST the way its path says: an HTML page, 100 MB, a real OCSP answer about
    /// another certificate, a server error.
    static func startImpostor(otherAnswer: [UInt8]) async throws -> (url: String, stop: @Sendable () async -> Void) {
        let router = Router()
        router.post("html") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html"], body: .init(byteBuffer: ByteBuffer(string: "<html><body>Service Unavailable</body></html>")))
        }
        router.post("huge") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/ocsp-response"], body: ResponseBody { writer in
                for _ in 0..<100 { try await writer.write(ByteBuffer(repeating: 0x30, count: 1 << 20)) }
                try await writer.finish(nil)
            })
        }
        router.post("other") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/ocsp-response"], body: .init(byteBuffer: ByteBuffer(bytes: otherAnswer)))
        }
        router.post("error") { _, _ in Response(status: .internalServerError) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "impostor")
        logger.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return ("http://127.0.0.1:\(port)", { task.cancel(); _ = try? await task.value })
    }

    @Test func theRealResponderAnswersAndEachFailureHasItsCode() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let leaf = try await Self.certificates(pki, .good)
        let responder = "http://127.0.0.1:\(pki.responderPort)"
        #expect(leaf.ocspURL == responder, "the URL comes from the certificate's authorityInfoAccess")
        func ask(_ url: String, _ certificates: SeenCertificates, timeout: Duration = .seconds(30)) async throws -> Result<Staple, CheckFailure> {
            try await OCSPResponderClient.ask(url, about: certificates, timeout: timeout)
        }

        let good = try await ask(responder, leaf).get()
        #expect(good.verified && good.certStatus == .good, "\(good)")
        let (thisUpdate, nextUpdate) = (try #require(good.thisUpdate), try #require(good.nextUpdate))
        #expect(nextUpdate - thisUpdate == 180 * 60, "the responder's -nmin 180")

        // The revokee's server still staples the GOOD it got before the revocation; the responder knows better.
        let revokee = try await Self.certificates(pki, .outdated)
        let revoked = try await ask(responder, revokee).get()
        #expect(revoked.certStatus == .revoked && revoked.verified)
        #expect(revoked.revocationTime != nil)

        let down = try await ask("http://127.0.0.1:\(try FreePort.reserve())", leaf)
        #expect(down.failure?.code == CheckFailure.connectionFailed, "\(down)")

        let silent = try SilentListener()
        defer { silent.close() }
        let slow = try await ask("http://127.0.0.1:\(silent.port)", leaf, timeout: .seconds(1))
        #expect(slow.failure?.code == CheckFailure.timeout, "\(slow)")

        let rogue = try await ask("http://127.0.0.1:\(try await pki.startResponder(signer: "rogue"))", leaf)
        #expect(rogue.failure?.code == OCSPResponderClient.Code.signatureInvalid, "\(rogue)")
        #expect(rogue.failure?.message.contains("the responder's answer") == true, "\(rogue)")

        // The good answer about leaf, given when asked about the revokee.
        let impostor = try await Self.startImpostor(otherAnswer: Array(try Data(contentsOf: pki.file("good.der"))))
        let other = try await ask(impostor.url + "/other", revokee)
        #expect(other.failure?.code == OCSPResponderClient.Code.wrongCertificate, "\(other)")
        let html = try await ask(impostor.url + "/html", leaf)
        #expect(html.failure?.code == CheckFailure.invalidResponse, "\(html)")
        let huge = try await ask(impostor.url + "/huge", leaf)
        #expect(huge.failure?.code == CheckFailure.responseTooLarge, "\(huge)")
        let error = try await ask(impostor.url + "/error", leaf)
        #expect(error.failure?.code == "http_500", "\(error)")
        await impostor.stop()
    }

    /// Through the exporter: each cluster's responder probe, its series and its rules.
    @Test func theExporterProbesEachClustersResponder() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let good = try await pki.status(of: "good.der")
        let goodPort = try await pki.startServer(.good)
        let outdatedPort = try await pki.startServer(.outdated)
        let rogue = try await pki.startResponder(signer: "rogue")
        let closed = try FreePort.reserve()
        // cluster: (endpoint, responder_probe)
        let setups: [(String, Int, String)] = [
            ("current", goodPort, "{}"),
            ("lagging", outdatedPort, "{}"),
            ("unreachable", goodPort, "{url: \"http://127.0.0.1:\(closed)\"}"),
            ("forged", goodPort, "{url: \"http://127.0.0.1:\(rogue)\"}"),
        ]
        let clusters = setups.map { SimulatedCluster(name: $0.0, scenario: .healthy, certificate: good) }
        for cluster in clusters {
            cluster.proxyCertificatePEM = try String(contentsOfFile: pki.path(cluster.name == "lagging" ? "revokee.pem" : "leaf.pem"), encoding: .utf8)
        }
        let yaml = Dictionary(uniqueKeysWithValues: setups.map { name, port, probe in
            (name, """
                stapling_probe: {endpoints: ["127.0.0.1:\(port)"], server_name: localhost, ca_file: \(pki.path("ca.pem")), interval: 1h, timeout: 10s}
                responder_probe: \(probe)
                """)
        })
        try await ExporterHarness.with(clusters, pollInterval: "1h", extraClusterYAML: yaml) { harness in
            try await harness.waitForRounds(1)
            // Every lane of every cluster has run (the rules judge only a polled cluster), and the
            // page shows each responder.
            try await waitUntil("the responder probes") {
                let ran = harness.app.store.read().entries.allSatisfy { $0.snapshot.responder?.result != nil && $0.snapshot.polledAt != nil }
                guard ran else { return false }
                return try await harness.metrics().series("redis_ocsp_responder_up").count == setups.count
            }
            let m = try await harness.metrics()
            let responder = "http://127.0.0.1:\(pki.responderPort)"
            func series(_ name: String, _ cluster: String, _ url: String = responder, _ extra: String = "") -> String {
                "\(name){cluster=\"\(cluster)\",responder=\"\(url)\"\(extra)}"
            }
            #expect(m[series("redis_ocsp_responder_up", "current")] == 1)
            #expect(m[series("redis_ocsp_responder_cert_status", "current", responder, ",status=\"GOOD\"")] == 1)
            #expect(m[series("redis_ocsp_responder_next_update_timestamp_seconds", "current")] != nil)
            #expect(m[series("redis_ocsp_responder_request_duration_seconds_count", "current")] == 1)
            #expect(m.series("redis_ocsp_responder_error", ["cluster=\"current\""]).isEmpty)
            #expect(m[series("redis_ocsp_responder_cert_status", "lagging", responder, ",status=\"REVOKED\"")] == 1)
            let unreachable = "http://127.0.0.1:\(closed)"
            #expect(m[series("redis_ocsp_responder_up", "unreachable", unreachable)] == 0)
            #expect(m[series("redis_ocsp_responder_error", "unreachable", unreachable, ",error_code=\"connection_failed\"")] == 1)
            #expect(m[series("redis_ocsp_responder_errors_total", "unreachable", unreachable, ",error_code=\"connection_failed\"")] == 1)
            #expect(m[series("redis_ocsp_responder_failing_since_timestamp_seconds", "unreachable", unreachable)] != nil)
            #expect(m.series("redis_ocsp_responder_cert_status", ["cluster=\"unreachable\""]).isEmpty, "no status from a failed request")
            #expect(m[series("redis_ocsp_responder_error", "forged", "http://127.0.0.1:\(rogue)", ",error_code=\"signature_invalid\"")] == 1)
            // While the responder fails, the staple's next_update is when clients fail.
            #expect(m[#"redis_ocsp_clients_fail_at_timestamp_seconds{cluster="unreachable",reason="staple_expires"}"#] != nil, "\(m.series("redis_ocsp_clients_fail_at_timestamp_seconds"))")
            // While it answers, the staple's next_update is not when clients fail (the CA and the
            // leaf expire within a second of each other: either can be the earliest).
            #expect(!m.series("redis_ocsp_clients_fail_at_timestamp_seconds", ["cluster=\"current\""]).isEmpty)
            #expect(m.series("redis_ocsp_clients_fail_at_timestamp_seconds", ["cluster=\"current\""]).keys.allSatisfy { !$0.contains("staple_expires") })

            // The landing page (and `check`) say what the responder said.
            let page = String(buffer: try await harness.get("/").body)
            #expect(page.contains("\(responder)  GOOD, next update "), "\(page)")
            #expect(page.contains("\(unreachable)  failing for "), "\(page)")
            #expect(page.contains("signature_invalid"))

            // The rules, past their durations: the built-in evaluator, and alerts/ agreeing with it now.
            let now = Date().timeIntervalSince1970
            // The simulated clusters retry 5 times every 60 s: 300 s; the lag's grace is an hour.
            let byCluster = harness.alertsByCluster(evaluatedAt: now, then: now + 3700, firingOnly: true)
            #expect(byCluster["current"]?.contains("RedisOCSPResponderDown") == false)
            #expect(byCluster["unreachable"]?.isSuperset(of: ["RedisOCSPResponderDown", "RedisOCSPClientsFailSoon"]) == true, "\(byCluster)")
            #expect(byCluster["forged"]?.contains("RedisOCSPResponderDown") == true, "\(byCluster)")
            #expect(byCluster["lagging"]?.contains("RedisOCSPRevocationLag") == true, "\(byCluster)")
            #expect(byCluster["current"]?.contains("RedisOCSPRevocationLag") == false)
            _ = try await AlertRulesTests.expectAgreement(harness, now: now.rounded(.down))
        }
    }
}
