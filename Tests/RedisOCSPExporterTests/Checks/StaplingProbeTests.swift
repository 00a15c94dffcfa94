import Foundation
import Logging
import NIOPosix
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// The TLS stapling probe against real OpenSSL peers: a CA, its OCSP responder and stapling
/// servers, all made and run by the openssl CLI.
@Suite(.serialized)
struct StaplingProbeTests {
    /// The timeout is one only a hang reaches, unless a test's subject is the timeout.
    static func probeConfig(timeout: Duration = .seconds(30), caFile: String? = nil) -> StaplingProbeConfig {
        StaplingProbeConfig(endpoints: [], serverName: "localhost", caFile: caFile,
                            caPEM: caFile.flatMap { FileManager.default.contents(atPath: $0).map(Array.init) }, timeout: timeout, interval: .seconds(60))
    }

    static func probe(_ port: Int, _ config: StaplingProbeConfig) async throws -> Handshake {
        let (result, _) = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(port)")!, config: config)
        return try result.get()
    }

    @Test func probeReadsAndChecksWhatEachRealServerStaples() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let withCA = Self.probeConfig(caFile: pki.path("ca.pem"))
        let now = Int64(Date().timeIntervalSince1970)
        let leafNotAfter = try await pki.notAfter("leaf")

        let goodPort = try await pki.startServer(.good)
        let good = try await Self.probe(goodPort, withCA)
        let goodStatus = try await pki.status(of: "good.der")
        #expect(good.leafNotAfter == leafNotAfter)
        #expect(good.staple == Staple(verified: true, problem: nil, certStatus: .good, producedAt: goodStatus.producedAt,
                                      thisUpdate: goodStatus.thisUpdate, nextUpdate: goodStatus.nextUpdate, revocationTime: nil,
                                      signerNotAfter: try await pki.notAfter("ca"), signerDelegated: false))
        #expect((goodStatus.nextUpdate - now) > 3000)

        // s_server sends only the leaf: without the CA file the issuer is unknown.
        let noCA = try await Self.probe(goodPort, Self.probeConfig())
        #expect(noCA.staple?.verified == false)
        #expect(noCA.staple?.problem?.contains("issuer") == true, "\(String(describing: noCA.staple?.problem))")
        #expect(noCA.staple?.certStatus == .good)

        let live = try await Self.probe(try await pki.startServer(.live), withCA)
        #expect(live.staple?.verified == true)
        #expect(live.staple?.certStatus == .good)

        let revoked = try await Self.probe(try await pki.startServer(.revoked), withCA)
        let revokedStatus = try await pki.status(of: "revoked.der")
        #expect(revoked.staple?.verified == true)
        #expect(revoked.staple?.certStatus == .revoked)
        #expect(revoked.staple?.revocationTime != nil)
        #expect(revoked.staple?.revocationTime == revokedStatus.revocationTime)

        let expired = try await Self.probe(try await pki.startServer(.expired), withCA)
        #expect(expired.staple?.verified == true, "an expired staple still has a valid signature")
        #expect(try #require(expired.staple?.nextUpdate) < now - 3600)

        let wrongKey = try await Self.probe(try await pki.startServer(.wrongKey), withCA)
        #expect(wrongKey.staple?.verified == false)
        #expect(wrongKey.staple?.problem?.contains("the served certificate's issuer did not issue") == true, "\(String(describing: wrongKey.staple?.problem))")

        let other = try await Self.probe(try await pki.startServer(.otherCertificate), withCA)
        #expect(other.staple?.verified == false)
        #expect(other.staple?.problem?.contains("another certificate") == true, "\(String(describing: other.staple?.problem))")

        let none = try await Self.probe(try await pki.startServer(.none), withCA)
        #expect(none.staple == nil)
        #expect(none.leafNotAfter == leafNotAfter)
    }

    /// A server that sends its own issuer and a GOOD staple signed by it: believed without a
    /// ca_file (there is nothing to anchor to), refused with one, and the chain says why.
    @Test func aStapleIsAnchoredToTheCAFile() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let forged = ProbeEndpoint("127.0.0.1:\(try await pki.startForgedServer())")!
        let anchored = try await StaplingProbe.run(forged, config: Self.probeConfig(caFile: pki.path("ca.pem"))).0.get()
        #expect(anchored.chainVerified == false)
        #expect(anchored.staple?.verified == false)
        #expect(anchored.staple?.problem?.contains("does not verify against ca_file") == true, "\(String(describing: anchored.staple?.problem))")
        #expect(anchored.staple?.certStatus == .good, "what the staple says is still shown")

        let unanchored = try await StaplingProbe.run(forged, config: Self.probeConfig()).0.get()
        #expect(unanchored.chainVerified == nil)
        #expect(unanchored.staple?.verified == true)

        // The real chain verifies against the CA file, and its staple with it.
        let good = ProbeEndpoint("127.0.0.1:\(try await pki.startServer(.good))")!
        let real = try await StaplingProbe.run(good, config: Self.probeConfig(caFile: pki.path("ca.pem"))).0.get()
        #expect(real.chainVerified == true)
        #expect(real.staple?.verified == true)
    }

    @Test func failuresAreClassifiedLikeAPIErrors() async throws {
        let refused = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(try FreePort.reserve())")!, config: Self.probeConfig())
        #expect(refused.0.failureCode == CheckFailure.connectionFailed)

        // A listener that accepts and never answers: the handshake times out on time.
        let silent = try SilentListener()
        defer { silent.close() }
        let (stalled, duration) = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(silent.port)")!, config: Self.probeConfig(timeout: .milliseconds(500)))
        #expect(stalled.failureCode == CheckFailure.timeout)
        // Not before the deadline; without it the probe would wait forever, so 30 s is a margin, not a speed.
        #expect(duration >= 0.45 && duration < 30, "took \(duration) s")

        // Plain HTTP where TLS is expected.
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let plain = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(pki.responderPort)")!, config: Self.probeConfig())
        #expect(plain.0.failureCode == CheckFailure.tlsError, "\(plain.0)")
    }
}

extension StaplingProbeTests {
    /// The exporter probing real stapling servers beside simulated clusters whose REST API
    /// reports the same certificates' status: metrics, alerts, and agreement with alerts/.
    /// Staples signed by a delegated responder, as most CAs sign them, through the real
    /// `openssl ocsp` responder with `-rsigner`: a proper delegated signer verifies; one without
    /// the OCSPSigning usage, one another CA issued and an expired one do not, each saying why.
    /// The signer's notAfter and whether it is delegated are exported either way.
    @Test func delegatedRespondersAreCheckedAndShown() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let config = Self.probeConfig(caFile: pki.path("ca.pem"))

        let issuerSigned = try #require(try await Self.probe(try await pki.startServer(.good), config).staple)
        #expect(issuerSigned.verified)
        #expect(issuerSigned.signerDelegated == false)
        #expect(issuerSigned.signerNotAfter == (try await pki.notAfter("ca")))

        let delegated = try #require(try await Self.probe(try await pki.startServer(.delegated), config).staple)
        #expect(delegated.verified, "\(delegated.problem ?? "")")
        #expect(delegated.signerDelegated == true)
        #expect(delegated.signerNotAfter == (try await pki.notAfter("responder")))

        let noEKU = try #require(try await Self.probe(try await pki.startServer(.delegatedNoEKU), config).staple)
        #expect(!noEKU.verified)
        #expect(noEKU.problem?.contains("without the OCSPSigning extended key usage") == true, "\(noEKU.problem ?? "")")

        let otherCA = try #require(try await Self.probe(try await pki.startServer(.delegatedOtherCA), config).staple)
        #expect(!otherCA.verified)
        #expect(otherCA.problem?.contains("did not issue") == true, "\(otherCA.problem ?? "")")

        let expired = try #require(try await Self.probe(try await pki.startServer(.delegatedExpired), config).staple)
        #expect(!expired.verified)
        #expect(expired.problem?.contains("has expired") == true, "\(expired.problem ?? "")")
        #expect(expired.signerNotAfter == (try await pki.notAfter("expired_responder")))
        #expect(expired.signerDelegated == true)

        // The rule: the expired signer is past every threshold; the issuer's 90 days are not.
        var snapshot = ClusterSnapshot(cluster: try ConfigLoader.load(yaml: "clusters: [{name: c, url: \"https://x\"}]", source: "t").clusters[0])
        var probe = StaplingProbeState(endpoint: "db:1")
        probe.record(.success(Handshake(leafNotAfter: nil, staple: expired)), duration: 0.01)
        var good = StaplingProbeState(endpoint: "db:2")
        good.record(.success(Handshake(leafNotAfter: nil, staple: issuerSigned)), duration: 0.01)
        snapshot.checks.stapling = [probe, good]
        let conditions = Rule.signerExpiring.conditions(snapshot, now: Date().timeIntervalSince1970, settings: RuleSettings(.signerExpiring))
        #expect(conditions.map { $0.labels.first?.1 } == ["db:1"])
    }

    /// A cluster watched by its stapling probe alone (`endpoints: []`) counts as checked once
    /// its probe has run: the exporter gets ready, and the cluster's rules are evaluated.
    @Test func aClusterWatchedOnlyByItsProbeIsReadyAndEvaluated() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let expired = try await pki.startServer(.expired)
        let yaml = """
            endpoints: []
            stapling_probe: {endpoints: ["127.0.0.1:\(expired)"], server_name: localhost, ca_file: \(pki.path("ca.pem")), interval: 1h, timeout: 3s}
            """
        let cluster = SimulatedCluster(name: "probed", scenario: .healthy)
        try await ExporterHarness.with([cluster], pollInterval: "1h",
                                       extraClusterYAML: ["probed": yaml]) { harness in
            try await harness.waitForStaplingProbes()
            try await waitUntil("ready") { harness.app.store.firstRoundDone }
            #expect(try await harness.get("/-/ready").status == 200)
            try await waitUntil("the stale staple's alert") {
                harness.app.rules.alerts("probed").contains { $0.rule == .stapleStale }
            }
            let page = String(buffer: try await harness.get("/").body)
            #expect(!page.contains("PENDING"), "\(page)")
            #expect(cluster.requestCount == 0)
        }
    }

    @Test func exporterServesTheStapledViewAndItsAlerts() async throws {
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        var ports: [StaplingPKI.Server: Int] = [:]
        for server in StaplingPKI.Server.allCases { ports[server] = try await pki.startServer(server) }
        let good = try await pki.status(of: "good.der")
        let newer = try await pki.status(of: "newer.der")
        let revoked = try await pki.status(of: "revoked.der")
        let refused = try FreePort.reserve()
        func at(_ server: StaplingPKI.Server) -> String { "127.0.0.1:\(ports[server]!)" }

        // cluster: (the API's certificate status, the endpoints probed)
        let setups: [(String, CertificateStatus, [String])] = [
            ("fresh", good, [at(.good), at(.live)]),
            ("revoked", revoked, [at(.revoked)]),
            ("outdated", revoked, [at(.outdated)]),
            ("lagging", newer, [at(.good)]),
            ("missing", good, [at(.none)]),
            ("invalid", good, [at(.wrongKey), at(.otherCertificate)]),
            ("expired", good, [at(.expired)]),
            ("unreachable", good, ["127.0.0.1:\(refused)"]),
            // The cluster holds a new certificate; its proxy still serves the old one.
            ("rotated", good, [at(.good)]),
        ]
        let clusters = setups.map { SimulatedCluster(name: $0.0, scenario: .healthy, certificate: $0.1) }
        for cluster in clusters {
            let proxy = ["revoked", "outdated", "rotated"].contains(cluster.name) ? "revokee.pem" : "leaf.pem"
            cluster.proxyCertificatePEM = try String(contentsOfFile: pki.path(proxy), encoding: .utf8)
        }
        let probes = Dictionary(uniqueKeysWithValues: setups.map { name, _, endpoints in
            (name, """
                stapling_probe:
                  endpoints: [\(endpoints.map { "\"\($0)\"" }.joined(separator: ", "))]
                  server_name: localhost
                  ca_file: \(pki.path("ca.pem"))
                  interval: 1h
                  timeout: 3s
                """)
        })
        try await ExporterHarness.with(clusters, pollInterval: "1h", extraClusterYAML: probes) { harness in
            try await harness.waitForRounds(1)
            try await harness.waitForStaplingProbes()
            let m = try await harness.metrics()
            func series(_ name: String, _ cluster: String, _ endpoint: String, _ extra: String = "") -> String {
                "\(name){cluster=\"\(cluster)\",endpoint=\"\(endpoint)\"\(extra)}"
            }

            let fresh = at(.good)
            #expect(m[series("redis_ocsp_stapling_probe_success", "fresh", fresh)] == 1)
            #expect(m[series("redis_ocsp_stapled_response_present", "fresh", fresh)] == 1)
            #expect(m[series("redis_ocsp_stapled_response_verified", "fresh", fresh)] == 1)
            #expect(m[series("redis_ocsp_stapled_cert_status", "fresh", fresh, ",status=\"GOOD\"")] == 1)
            #expect(m[series("redis_ocsp_stapled_cert_status", "fresh", fresh, ",status=\"REVOKED\"")] == 0)
            #expect(m[series("redis_ocsp_stapled_next_update_timestamp_seconds", "fresh", fresh)] == Double(good.nextUpdate))
            #expect(m[series("redis_ocsp_stapled_this_update_timestamp_seconds", "fresh", fresh)] == Double(good.thisUpdate))
            #expect(m[series("redis_ocsp_stapled_produced_at_timestamp_seconds", "fresh", fresh)] == Double(good.producedAt))
            #expect(m[series("redis_ocsp_tls_cert_not_after_timestamp_seconds", "fresh", fresh)] == Double(try await pki.notAfter("leaf")))
            #expect((m[series("redis_ocsp_stapling_probe_duration_seconds", "fresh", fresh)] ?? 0) > 0)
            #expect(m[series("redis_ocsp_stapled_response_verified", "fresh", at(.live))] == 1)
            #expect(m.series("redis_ocsp_stapled_revocation_timestamp_seconds", ["cluster=\"fresh\""]).isEmpty)
            #expect(m[series("redis_ocsp_stapled_revocation_timestamp_seconds", "revoked", at(.revoked))] == Double(revoked.revocationTime!))
            #expect(m[series("redis_ocsp_stapled_response_present", "missing", at(.none))] == 0)
            #expect(m[series("redis_ocsp_stapled_response_verified", "invalid", at(.wrongKey))] == 0)
            #expect(m[series("redis_ocsp_stapled_response_verified", "invalid", at(.otherCertificate))] == 0)

            // A failed probe: why, and no value series from an earlier handshake.
            let down = "127.0.0.1:\(refused)"
            #expect(m[series("redis_ocsp_stapling_probe_success", "unreachable", down)] == 0)
            #expect(m[series("redis_ocsp_stapling_probe_error", "unreachable", down, ",error_code=\"connection_failed\"")] == 1)
            #expect(m[series("redis_ocsp_stapling_probe_errors_total", "unreachable", down, ",error_code=\"connection_failed\"")] == 1)
            #expect(m.series("redis_ocsp_stapled_response_present", ["cluster=\"unreachable\""]).isEmpty)
            #expect(m.series("redis_ocsp_stapling_probe_error", ["cluster=\"fresh\""]).isEmpty)

            // Whether each endpoint serves the cluster's proxy certificate, by fingerprint.
            #expect(m[series("redis_ocsp_tls_cert_matches_cluster", "fresh", fresh)] == 1)
            #expect(m[series("redis_ocsp_tls_cert_matches_cluster", "revoked", at(.revoked))] == 1)
            #expect(m[series("redis_ocsp_tls_cert_matches_cluster", "rotated", at(.good))] == 0)
            #expect(m.series("redis_ocsp_tls_cert_matches_cluster", ["cluster=\"unreachable\""]).isEmpty, "absent while the served certificate is unknown")
            let served = try #require(m.series("redis_ocsp_tls_cert_info", ["cluster=\"rotated\""]).keys.first)
            let proxy = try #require(m.series("redis_ocsp_proxy_cert_info", ["cluster=\"rotated\""]).keys.first)
            #expect(served.contains("sha256=\"\(try await pki.sha256("leaf"))\""), "\(served)")
            #expect(proxy.contains("sha256=\"\(try await pki.sha256("revokee"))\""), "\(proxy)")
            #expect(m[#"redis_ocsp_proxy_cert_not_after_timestamp_seconds{cluster="rotated"}"#] == Double(try await pki.notAfter("revokee")))

            // Rules with no `for` fire at once in the exporter itself.
            #expect(m.text.contains(#"redis_ocsp_alerts{cluster="invalid",alertname="RedisOCSPStapleInvalid",alertstate="firing",endpoint="\#(at(.wrongKey))",severity="critical"} 1"#))
            #expect(m.text.contains(#"redis_ocsp_alerts{cluster="expired",alertname="RedisOCSPStapleStale",alertstate="firing",endpoint="\#(at(.expired))",severity="critical"} 1"#))
            #expect(m.text.contains(#"redis_ocsp_alerts{cluster="missing",alertname="RedisOCSPStapleMissing",alertstate="pending""#))
            #expect(!m.text.contains(#"redis_ocsp_alerts{cluster="fresh""#))

            // The landing page tells the same.
            let page = String(buffer: try await harness.get("/").body)
            #expect(page.contains("\(fresh)  GOOD, verifies, next update in "))
            #expect(page.contains("\(at(.none))  no staple"))
            #expect(page.contains("\(at(.wrongKey))  GOOD, does not verify: the staple&#39;s signer is a responder certificate the served certificate&#39;s issuer did not issue"))
            #expect(page.contains("\(down)  probe failed: connection_failed"))

            // Past every `for`, the built-in evaluator and alerts/ fire the same alerts.
            let fired = try await AlertRulesTests.expectAgreement(harness, now: Date().timeIntervalSince1970.rounded(.down))
            #expect(fired == Rule.stapleRules.union([.certRevoked, .proxyCertificateMismatch, .clientsFailSoon]))
            let now = Date().timeIntervalSince1970
            let byCluster = harness.alertsByCluster(evaluatedAt: now - 900, then: now)
            #expect(byCluster["fresh"] == [])
            #expect(byCluster["revoked"] == ["RedisOCSPCertRevoked", "RedisOCSPClientsFailSoon"])
            #expect(byCluster["outdated"] == ["RedisOCSPCertRevoked", "RedisOCSPStapleMismatch", "RedisOCSPClientsFailSoon"])
            #expect(byCluster["lagging"] == ["RedisOCSPStapleMismatch"])
            #expect(byCluster["missing"] == ["RedisOCSPStapleMissing"])
            #expect(byCluster["invalid"] == ["RedisOCSPStapleInvalid"])
            #expect(byCluster["expired"] == ["RedisOCSPStapleStale", "RedisOCSPStapleMismatch"])
            #expect(byCluster["unreachable"] == [])
            #expect(byCluster["rotated"] == ["RedisProxyCertificateMismatch", "RedisOCSPClientsFailSoon"])
        }
    }
}

extension StaplingProbeTests {
    /// Twenty endpoints that accept and never answer: every probe times out on its own
    /// deadline while scrapes and the REST poll of the cluster go on undisturbed. (The probe
    /// also asserts, in debug builds, that it never runs on an event loop.)
    @Test func hungEndpointsStallNothingElse() async throws {
        let listeners = try (0..<20).map { _ in try SilentListener() }
        defer { listeners.forEach { $0.close() } }
        let yaml = """
            stapling_probe:
              endpoints: [\(listeners.map { "\"127.0.0.1:\($0.port)\"" }.joined(separator: ", "))]
              interval: 1h
              timeout: 15s
            """
        let cluster = SimulatedCluster(name: "hung", scenario: .healthy)
        try await ExporterHarness.with([cluster], pollInterval: "200ms", extraClusterYAML: ["hung": yaml]) { harness in
            func hung() -> Bool { harness.app.store.snapshot("hung")?.stapling.contains(where: { $0.result == nil }) ?? true }
            // While every probe hangs (for its 15 s timeout), polls and scrapes go on.
            try await harness.waitForRounds(5)
            for _ in 0..<5 {
                let (status, _, _) = try await harness.get("/metrics")
                #expect(status == 200)
            }
            #expect(hung(), "the probes were still hung while the polls and scrapes went on")
            try await waitUntil("the probes to time out") { !hung() }
            let m = try await harness.metrics()
            for listener in listeners {
                let labels = "cluster=\"hung\",endpoint=\"127.0.0.1:\(listener.port)\""
                #expect(m["redis_ocsp_stapling_probe_error{\(labels),error_code=\"timeout\"}"] == 1)
                let duration = try #require(m["redis_ocsp_stapling_probe_duration_seconds{\(labels)}"])
                // Ended by its deadline: not before it, and long before a hang would end it.
                #expect(duration >= 14.9 && duration < 45, "probe took \(duration) s")
            }
        }
    }
}

extension Result where Failure == CheckFailure {
    var failureCode: String? {
        if case .failure(let failure) = self { failure.code } else { nil }
    }
}

/// A loopback TCP listener whose connections are accepted by the kernel and never answered.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        (fd, port) = try FreePort.bind()
        guard listen(fd, 128) == 0 else { throw HarnessError("cannot listen on loopback") }
    }

    func close() { _ = Glibc.close(fd) }
}
