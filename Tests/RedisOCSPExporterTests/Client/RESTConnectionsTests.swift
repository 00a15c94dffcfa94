import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import RedisSoftwareAPI
@testable import RedisOCSPExporter
import Testing

/// What the REST client does with a connection between answers, against a plain HTTP server
/// that misbehaves on purpose and counts the connections it accepts and sees closed.
@Suite
struct RESTConnectionsTests {
    /// Answers each request with OCSP enabled, then does what `mode` says; over TLS with
    /// `certificate` and `key` (PEM files), closing the TCP connection without TLS's close_notify.
    final class Server: Sendable {
        enum Mode { case keepOpen, closeAfterAnswer, unsolicitedBytesAfterAnswer, silentAfterFirstAnswer }

        let channel: any Channel
        private let counts = NIOLockedValueBox((accepted: 0, closed: 0))
        var accepted: Int { counts.withLockedValue { $0.accepted } }
        var closed: Int { counts.withLockedValue { $0.closed } }
        var port: Int { channel.localAddress!.port! }

        init(_ mode: Mode, certificate: String? = nil, key: String? = nil) async throws {
            let counts = counts
            let tls = try certificate.flatMap { certificate in
                try key.map { key in
                    try NIOSSLContext(configuration: .makeServerConfiguration(
                        certificateChain: NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                        privateKey: .privateKey(NIOSSLPrivateKey(file: key, format: .pem))))
                }
            }
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    counts.withLockedValue { $0.accepted += 1 }
                    channel.closeFuture.whenComplete { _ in counts.withLockedValue { $0.closed += 1 } }
                    return channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        // Below TLS: a close from here skips NIOSSL's close_notify.
                        let socket = SocketCloser()
                        try pipeline.addHandler(socket)
                        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                        try pipeline.addHandler(Answerer(mode, socket: socket))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        func stop() async { try? await channel.close() }

        private final class SocketCloser: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            var context: ChannelHandlerContext?
            func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        }

        private final class Answerer: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            let mode: Mode
            let socket: SocketCloser
            var request = ""
            var answered = 0
            init(_ mode: Mode, socket: SocketCloser) { (self.mode, self.socket) = (mode, socket) }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                request += String(buffer: unwrapInboundIn(data))
                guard let end = request.range(of: "\r\n\r\n") else { return }
                request = String(request[end.upperBound...])
                answered += 1
                if mode == .silentAfterFirstAnswer && answered > 1 { return }
                let body = #"{"ocsp_functionality": true}"#
                var answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                if mode == .unsolicitedBytesAfterAnswer {
                    answer += "HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n{\"ocsp_functionality\": false}"
                }
                let socket = socket
                context.writeAndFlush(NIOAny(ByteBuffer(string: answer))).assumeIsolated().whenComplete { _ in
                    if self.mode == .closeAfterAnswer { socket.context?.close(promise: nil) }
                }
            }
        }
    }

    static func client(_ server: Server, idleTimeout: TimeAmount = .seconds(90), ca: String? = nil,
                       timeout: String = ExporterHarness.timeout) throws -> ClusterClient {
        let url = ca == nil ? "http://127.0.0.1:\(server.port)" : "https://localhost:\(server.port)"
        let config = try ConfigLoader.load(yaml: """
            clusters: [{name: a, url: "\(url)", timeout: \(timeout)\(ca.map { ", tls: {ca_file: \($0)}" } ?? "")}]
            """, source: "connections.yml")
        return ClusterClient(cluster: config.clusters[0], idleTimeout: idleTimeout)
    }

    /// A kept connection serves every request while the server keeps it.
    @Test func aKeptConnectionServesEveryRequest() async throws {
        let server = try await Server(.keepOpen)
        let client = try Self.client(server)
        for _ in 0..<5 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(try fetch.result.get().enabled)
        }
        #expect(server.accepted == 1)
        client.connections.close()
        try await waitUntil("the idle connection to close") { server.closed == 1 }
        await server.stop()
    }

    /// Each request on a kept connection has its own deadline, counted from when it went out:
    /// a later request that gets no answer fails when its own timeout has passed, not sooner
    /// (at the deadline of the request before it) and not never. The timeout is the first
    /// request's whole budget on a loaded machine too (a second was not always enough for it).
    @Test(.timeLimit(.minutes(1))) func eachRequestOnAKeptConnectionHasItsOwnDeadline() async throws {
        let server = try await Server(.silentAfterFirstAnswer)
        let client = try Self.client(server, timeout: "5s")
        let first = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
        #expect(try first.result.get().enabled)
        let start = ContinuousClock.now
        let second = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
        // NIO's timers never fire before their deadline, which is at least the timeout after `start`.
        #expect(ContinuousClock.now - start >= .seconds(5))
        switch second.result {
        case .success: Issue.record("a server that stays silent gave an answer")
        case .failure(let failure): #expect(failure.code == CheckFailure.timeout, "\(failure)")
        }
        #expect(server.accepted == 1)
        client.connections.close()
        await server.stop()
    }

    /// A server that closes the connection after its answer without saying so (as a load
    /// balancer's idle timeout does) costs no request: whether the close arrives before the next
    /// request or while it goes out, the request gets an answer on a new connection.
    @Test func aConnectionTheServerClosedCostsNoRequest() async throws {
        try await Self.expectEveryRequestAnswered(by: Server(.closeAfterAnswer), ca: nil)
    }

    /// Five GETs to a server that closes after each answer: each gets its answer, on a connection of its own.
    static func expectEveryRequestAnswered(by server: Server, ca: String?) async throws {
        let client = try Self.client(server, ca: ca)
        for _ in 0..<5 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(try fetch.result.get().enabled, "\(fetch.result)")
        }
        #expect(server.accepted == 5)
        client.connections.close()
        await server.stop()
    }

    /// The same over TLS, where the server closes the TCP connection without TLS's close_notify
    /// (NIOSSL's unclean shutdown), as a load balancer that drops idle connections does.
    @Test func aTLSConnectionClosedWithoutCloseNotifyCostsNoRequest() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("connections-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = try await TestCertificates.makeServerAndClients(in: directory)
        try await Self.expectEveryRequestAnswered(
            by: Server(.closeAfterAnswer, certificate: files["server"], key: files["serverKey"]), ca: files["ca"])
    }

    /// Bytes that no request asked for are never taken for the next request's answer: NIO's
    /// decoder refuses them, which fails the request they arrive during and ends the connection.
    @Test func unsolicitedBytesAreNeverTakenForAnAnswer() async throws {
        let server = try await Server(.unsolicitedBytesAfterAnswer)
        let client = try Self.client(server)
        for _ in 0..<6 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            switch fetch.result {
            case .success(let config): #expect(config.enabled, "the unsolicited answer was taken for this one")
            case .failure(let failure): #expect(failure.code == CheckFailure.connectionFailed, "\(failure)")
            }
        }
        client.connections.close()
        await server.stop()
    }

    /// A connection attempt that gets no answer (a listener whose queue is full drops the SYN,
    /// as a firewall that drops packets does) ends when its round is cancelled, as at a reload
    /// or shutdown, not when the cluster's timeout passes.
    @Test func aConnectionAttemptEndsWhenItsRoundIsCancelled() async throws {
        // With a backlog of 0, Linux keeps one connection waiting for accept and drops later SYNs.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                guard bind(listener, socketAddress, length) == 0, listen(listener, 0) == 0,
                      getsockname(listener, socketAddress, &length) == 0 else { throw HarnessError("listener") }
            }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let filler = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        let config = try ConfigLoader.load(yaml: """
            clusters: [{name: a, url: "http://127.0.0.1:\(port)", timeout: 60s}]
            """, source: "connections.yml")
        let client = ClusterClient(cluster: config.clusters[0], idleTimeout: .seconds(90))
        let start = ContinuousClock.now
        let round = Task { try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self) }
        round.cancel()
        await #expect(throws: CancellationError.self) { try await round.value }
        // Waiting for the timeout would take 60 s: half of that is a margin any machine holds.
        #expect(ContinuousClock.now - start < .seconds(30))
        try? await filler.close()
    }

    /// A connection idle for its idle timeout is closed by the client, with no request after it.
    @Test func anIdleConnectionIsClosedAfterItsIdleTimeout() async throws {
        let server = try await Server(.keepOpen)
        let client = try Self.client(server, idleTimeout: .milliseconds(250))
        let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
        #expect(try fetch.result.get().enabled)
        try await waitUntil("the idle connection to close") { server.closed == 1 }
        #expect(server.accepted == 1)
        await server.stop()
    }
}
