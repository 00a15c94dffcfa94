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
    static func probeConfig(timeout: Duration = .seconds(5), caFile: String? = nil) -> StaplingProbeConfig {
        StaplingProbeConfig(endpoints: [], serverName: "localhost", caFile: caFile, timeout: timeout, interval: .seconds(60))
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
                                      thisUpdate: goodStatus.thisUpdate, nextUpdate: goodStatus.nextUpdate, revocationTime: nil))
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
        #expect(wrongKey.staple?.problem?.contains("signature") == true, "\(String(describing: wrongKey.staple?.problem))")

        let other = try await Self.probe(try await pki.startServer(.otherCertificate), withCA)
        #expect(other.staple?.verified == false)
        #expect(other.staple?.problem?.contains("another certificate") == true, "\(String(describing: other.staple?.problem))")

        let none = try await Self.probe(try await pki.startServer(.none), withCA)
        #expect(none.staple == nil)
        #expect(none.leafNotAfter == leafNotAfter)
    }

    @Test func failuresAreClassifiedLikeAPIErrors() async throws {
        let refused = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(try FreePort.reserve())")!, config: Self.probeConfig())
        #expect(refused.0.failureCode == APIFailure.connectionFailed)

        // A listener that accepts and never answers: the handshake times out on time.
        let silent = try SilentListener()
        defer { silent.close() }
        let (stalled, duration) = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(silent.port)")!, config: Self.probeConfig(timeout: .milliseconds(500)))
        #expect(stalled.failureCode == APIFailure.timeout)
        #expect(duration >= 0.45 && duration < 3, "took \(duration) s")

        // Plain HTTP where TLS is expected.
        let pki = try await StaplingPKI()
        defer { pki.stop() }
        let plain = await StaplingProbe.run(ProbeEndpoint("127.0.0.1:\(pki.responderPort)")!, config: Self.probeConfig())
        #expect(plain.0.failureCode == APIFailure.tlsError, "\(plain.0)")
    }
}

extension Result where Failure == APIFailure {
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
