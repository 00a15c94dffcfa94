#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Where a request goes: the address connected to, and the name the server's certificate must
/// carry (sent as SNI; nil for an IP address, which the certificate must then name).
struct RESTTarget: Hashable, Sendable {
    var host: String
    var port: Int
    var https: Bool
    var serverName: String?
    /// `host:port`, IPv6 in brackets.
    var address: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// A whole answer: status, the Location header and the body.
struct RESTAnswer: Sendable {
    var status: Int
    var location: String?
    var body: ByteBuffer
    var keepAlive: Bool
}

/// Why a request has no answer, beside the errors of NIO and NIOSSL.
enum RESTConnectionError: Error, Equatable {
    /// The connection closed before the answer was complete.
    case closed
    /// The body passed the limit.
    case tooLarge
    /// No connection to the address (`host:port`), with the system's reason.
    case cannotConnect(String, String)
}

/// One cluster's HTTP/1.1 connections, one request at a time on each: NIO's HTTP codec under
/// NIOSSL, no pool and no per-request URL parsing, on the event loop the calling round runs
/// on. A connection whose answer allowed it stays for the next request of its target for
/// `idleTimeout`; a request while it is busy opens another, which is closed after its answer.
final class RESTConnections: Sendable {
    /// Idle connections kept at most, one per target: the configured address and a redirect's.
    static let keptTargets = 2

    private struct Idle {
        var connection: Connection
        var since: NIODeadline
    }

    private let idleTimeout: TimeAmount
    private let tls: TLSConfiguration
    private let maxBodyBytes: Int
    /// Page-backed for connections kept between rounds, whose buffers live as long; malloc's
    /// for those closed after their round, which would pay the mapping for nothing.
    private let allocator: ByteBufferAllocator
    /// nil once closed: answers that come after keep no connection.
    private let idle = NIOLockedValueBox<[RESTTarget: Idle]?>([:])

    init(tls: TLSConfiguration, idleTimeout: TimeAmount, maxBodyBytes: Int) {
        self.tls = tls
        self.idleTimeout = idleTimeout
        self.maxBodyBytes = maxBodyBytes
        allocator = idleTimeout >= .seconds(1) ? PageBackedAllocator.allocator : ByteBufferAllocator()
    }

    /// Sends `head` (and no body) to `target` and returns its whole answer, or throws NIO's,
    /// NIOSSL's or a `RESTConnectionError`, `DeadlineExceeded` when `deadline` passes first.
    func send(_ head: HTTPRequestHead, to target: RESTTarget, deadline: NIODeadline) async throws -> RESTAnswer {
        if let connection = takeIdle(target) {
            do {
                return try await exchange(head, on: connection, target: target, deadline: deadline)
            } catch where head.method == .GET && Self.closedByServer(error) {
                // The server closed the idle connection as the request went out: once more on
                // a new one, as browsers do for a request that changes nothing.
            }
        }
        let connection = try await connect(target, deadline: deadline)
        return try await exchange(head, on: connection, target: target, deadline: deadline)
    }

    /// Whether `error` says only that the server closed the connection: an end, TLS's end
    /// without close_notify, or a reset.
    private static func closedByServer(_ error: any Error) -> Bool {
        switch error {
        case RESTConnectionError.closed, NIOSSLError.uncleanShutdown: true
        case let error as IOError: error.errnoCode == ECONNRESET || error.errnoCode == EPIPE
        default: false
        }
    }

    /// Closes the idle connections.
    func close() {
        let all = idle.withLockedValue { idle in
            defer { idle = nil }
            return idle?.values.map(\.connection) ?? []
        }
        for connection in all { connection.channel.close(promise: nil) }
    }

    private func exchange(_ head: HTTPRequestHead, on connection: Connection, target: RESTTarget, deadline: NIODeadline) async throws -> RESTAnswer {
        let loop = connection.channel.eventLoop
        let promise = loop.makePromise(of: RESTAnswer.self)
        let (handler, limit) = (connection.handler, maxBodyBytes)
        // A round runs on its connection's loop (see LoopTaskExecutor): no hop then.
        @Sendable func send() {
            guard let answers = handler.value else { return promise.fail(RESTConnectionError.closed) }
            answers.send(head, promise: promise, deadline: deadline, limit: limit)
        }
        if loop.inEventLoop { send() } else { loop.execute(send) }
        let answer = try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            connection.channel.close(promise: nil)
        }
        if answer.keepAlive { keep(connection, for: target) } else { connection.channel.close(promise: nil) }
        return answer
    }

    private func takeIdle(_ target: RESTTarget) -> Connection? {
        guard let entry = idle.withLockedValue({ $0?.removeValue(forKey: target) }) else { return nil }
        guard entry.connection.channel.isActive else { return nil }
        return entry.connection
    }

    private func keep(_ connection: Connection, for target: RESTTarget) {
        let kept = idle.withLockedValue { idle -> Bool in
            guard idle?[target] == nil, let count = idle?.count, count < Self.keptTargets else { return false }
            idle?[target] = Idle(connection: connection, since: .now())
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    /// Closes `connection` once it has been idle for `idleTimeout`: one timer per connection,
    /// from its start to its end, that looks again when the idle time it saw would end.
    private func expire(_ connection: Connection, target: RESTTarget, after delay: TimeAmount) {
        connection.channel.eventLoop.scheduleTask(in: delay) { [weak self] in
            guard let self, connection.channel.isActive else { return connection.channel.close(promise: nil) }
            let left = self.idle.withLockedValue { idle -> TimeAmount in
                // In use: its idle time starts again after the answer.
                guard let entry = idle?[target] else { return idle == nil ? .zero : self.idleTimeout }
                guard entry.connection.channel === connection.channel else { return self.idleTimeout }
                let left = entry.since + self.idleTimeout - .now()
                if left <= .zero { idle?[target] = nil }
                return left
            }
            if left <= .zero { connection.channel.close(promise: nil) } else { self.expire(connection, target: target, after: left) }
        }
    }

    private func connect(_ target: RESTTarget, deadline: NIODeadline) async throws -> Connection {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.next()
        let context = target.https ? try await TLSContexts.shared.context(for: tls, on: loop) : nil
        let serverName = target.serverName
        // Filled in as the channel is set up: a handshake that fails at once takes the handler out
        // of the pipeline before it could be looked up there, and the handler keeps why.
        let handler = NIOLoopBoundBox.makeEmptyBox(valueType: AnswerHandler.self, eventLoop: loop)
        // The channel while it connects, or that the round was cancelled before it was made:
        // NIO cannot cancel a connection attempt, but closing its channel ends it.
        let attempt = NIOLoopBoundBox.makeEmptyBox(valueType: Attempt.self, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(max(.zero, deadline - .now()))
            .channelOption(.allocator, value: allocator)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .cancelled = attempt.value { throw CancellationError() }
                    attempt.value = .connecting(channel)
                    let pipeline = channel.pipeline.syncOperations
                    if let context { try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName)) }
                    try pipeline.addHTTPClientHandlers()
                    let answers = AnswerHandler()
                    handler.value = answers
                    try pipeline.addHandler(answers)
                }
            }
        // An IP address is connected to as it is: NIO's resolver would hand it to getaddrinfo
        // on a dispatch queue and back.
        let address = try? SocketAddress(ipAddress: target.host, port: target.port)
        let channel = try await withTaskCancellationHandler {
            do {
                return try await (address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: target.host, port: target.port)).get()
            } catch let error as IOError {
                throw RESTConnectionError.cannotConnect(target.address, ClusterClient.systemMessage(error))
            }
        } onCancel: {
            loop.execute {
                if case .connecting(let channel) = attempt.value { channel.close(promise: nil) }
                attempt.value = .cancelled
            }
        }
        let connection = Connection(channel: channel, handler: handler)
        expire(connection, target: target, after: idleTimeout)
        return connection
    }
}

private enum Attempt {
    case connecting(any Channel)
    case cancelled
}

private struct Connection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBoundBox<AnswerHandler?>
}

/// Sends one request at a time and gathers its answer on the event loop, within the deadline
/// and the body limit. An error closes the connection, so a connection with an answer in doubt
/// never serves another request.
private final class AnswerHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var promise: EventLoopPromise<RESTAnswer>?
    private var timeout: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var limit = 0
    /// What ended the connection before a request was sent (a failed handshake, a close).
    private var ended: (any Error)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ request: HTTPRequestHead, promise: EventLoopPromise<RESTAnswer>, deadline: NIODeadline, limit: Int) {
        guard let context, ended == nil, context.channel.isActive else {
            return promise.fail(ended ?? RESTConnectionError.closed)
        }
        self.promise = promise
        self.limit = limit
        head = nil
        body.clear()
        timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in self?.fail(DeadlineExceeded()) }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard promise != nil else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= limit else { return fail(RESTConnectionError.tooLarge) }
            if body.readableBytes == 0 { body = part } else { body.writeBuffer(&part) }
        case .end:
            guard let head, let promise else { return fail(RESTConnectionError.closed) }
            self.promise = nil
            timeout?.cancel()
            promise.succeed(RESTAnswer(status: Int(head.status.code), location: head.headers.first(name: "Location"), body: body,
                                       keepAlive: head.isKeepAlive))
            body = ByteBuffer()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RESTConnectionError.closed)
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error) {
        if ended == nil { ended = error }
        timeout?.cancel()
        if let promise {
            self.promise = nil
            promise.fail(error)
        }
        context?.close(promise: nil)
    }
}

/// One NIOSSLContext per distinct TLS configuration, built on a thread pool (it reads and
/// parses trust roots) and shared by every cluster that has that configuration.
final class TLSContexts: Sendable {
    static let shared = TLSContexts()
    /// Contexts kept at most; past it the cache starts again (a reload with new files).
    static let limit = 256

    private struct Key: Hashable {
        var configuration: TLSConfiguration
        static func == (a: Key, b: Key) -> Bool { a.configuration.bestEffortEquals(b.configuration) }
        func hash(into hasher: inout Hasher) { configuration.bestEffortHash(into: &hasher) }
    }

    private let contexts = NIOLockedValueBox<[Key: EventLoopFuture<NIOSSLContext>]>([:])

    func context(for configuration: TLSConfiguration, on loop: any EventLoop) async throws -> NIOSSLContext {
        let key = Key(configuration: configuration)
        let future = contexts.withLockedValue { contexts in
            if let future = contexts[key] { return future }
            if contexts.count >= Self.limit { contexts = [:] }
            let future = NIOThreadPool.singleton.runIfActive(eventLoop: loop) { try NIOSSLContext(configuration: configuration) }
            contexts[key] = future
            return future
        }
        do {
            return try await future.get()
        } catch {
            // A failure is not kept: the next connection tries again.
            contexts.withLockedValue { contexts in
                if contexts[key] === future { contexts[key] = nil }
            }
            throw error
        }
    }
}
