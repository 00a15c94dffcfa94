import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RedisSoftwareAPI
@testable import RedisOCSPExporter
import Testing

/// What the REST client does with a connection between answers, against a plain HTTP server
/// that misbehaves on purpose and counts the connections it accepts and sees closed.
@Suite
struct RESTConnectionsTests {
    /// Answers each request with OCSP enabled, then does what `mode` says.
    final class Server: Sendable {
        enum Mode { case keepOpen, closeAfterAnswer, unsolicitedBytesAfterAnswer }

        let channel: any Channel
        private let counts = NIOLockedValueBox((accepted: 0, closed: 0))
        var accepted: Int { counts.withLockedValue { $0.accepted } }
        var closed: Int { counts.withLockedValue { $0.closed } }
        var port: Int { channel.localAddress!.port! }

        init(_ mode: Mode) async throws {
            let counts = counts
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    counts.withLockedValue { $0.accepted += 1 }
                    channel.closeFuture.whenComplete { _ in counts.withLockedValue { $0.closed += 1 } }
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answerer(mode)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        func stop() async { try? await channel.close() }

        private final class Answerer: ChannelInboundHandler {
            typealias InboundIn = ByteBuffer
            let mode: Mode
            var request = ""
            init(_ mode: Mode) { self.mode = mode }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                request += String(buffer: unwrapInboundIn(data))
                guard let end = request.range(of: "\r\n\r\n") else { return }
                request = String(request[end.upperBound...])
                let body = #"{"ocsp_functionality": true}"#
                var answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                if mode == .unsolicitedBytesAfterAnswer {
                    answer += "HTTP/1.1 200 OK\r\nContent-Length: 29\r\n\r\n{\"ocsp_functionality\": false}"
                }
                context.writeAndFlush(NIOAny(ByteBuffer(string: answer)), promise: nil)
                if mode == .closeAfterAnswer { context.close(promise: nil) }
            }
        }
    }

    static func client(_ server: Server, idleTimeout: TimeAmount = .seconds(90)) throws -> ClusterClient {
        let config = try ConfigLoader.load(yaml: """
            clusters: [{name: a, url: "http://127.0.0.1:\(server.port)", timeout: \(ExporterHarness.timeout)}]
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

    /// A server that closes the connection after its answer without saying so (as a load
    /// balancer's idle timeout does) costs no request: whether the close arrives before the next
    /// request or while it goes out, the request gets an answer on a new connection.
    @Test func aConnectionTheServerClosedCostsNoRequest() async throws {
        let server = try await Server(.closeAfterAnswer)
        let client = try Self.client(server)
        for _ in 0..<5 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(try fetch.result.get().enabled, "\(fetch.result)")
        }
        #expect(server.accepted == 5)
        client.connections.close()
        await server.stop()
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
