import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Answers `GET <telemetry path>` on the event loop straight from the cached page, without the
/// router and without a hop to Swift concurrency and back: that hop costs more than sending
/// the bytes. Anything else, and a scrape whose page must be built first (which can take long
/// for a large fleet and must not block the event loop), goes on to the router as usual.
///
/// It sits after Hummingbird's connection state handler, so idle timeouts and graceful
/// shutdown see its requests; `Installer` puts it there once that handler is in place.
final class MetricsFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let path: String
    let page: MetricsPage
    let headers: [(name: String, value: String)]
    /// Requests handed to the router whose response has not ended: answering out of turn
    /// would reorder pipelined responses.
    private var outstanding: Int
    /// The body of the request being answered here, until its end arrives.
    private var answer: (body: ByteBuffer, gzip: Bool)?

    init(path: String, page: MetricsPage, headers: [(name: String, value: String)], outstanding: Int) {
        self.path = path
        self.page = page
        self.headers = headers
        self.outstanding = outstanding
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            let gzip = Routes.acceptsGzip(request.headerFields[.acceptEncoding])
            if outstanding == 0, request.method == .get, request.path?.split(separator: "?", maxSplits: 1).first.map(String.init) == path,
               let body = page.cached(gzip: gzip) {
                answer = (body, gzip)
                return
            }
            outstanding += 1
            context.fireChannelRead(data)
        case .body:
            if answer == nil { context.fireChannelRead(data) }
        case .end:
            guard let (body, gzip) = answer else {
                context.fireChannelRead(data)
                return
            }
            answer = nil
            var fields: HTTPFields = [.contentType: Exposition.contentType, .vary: "Accept-Encoding", .contentLength: String(body.readableBytes)]
            if gzip { fields[.contentEncoding] = "gzip" }
            for header in headers {
                if let name = HTTPField.Name(header.name) { fields[name] = header.value }
            }
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { outstanding -= 1 }
        context.write(data, promise: promise)
    }

    /// Added with the HTTP handlers, before Hummingbird's connection state handler exists; on
    /// the first request it puts the fast path after that handler and leaves.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart

        let make: @Sendable (_ outstanding: Int) -> MetricsFastPath

        init(_ make: @escaping @Sendable (_ outstanding: Int) -> MetricsFastPath) {
            self.make = make
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // This first request goes to the router; the fast path then waits for its answer.
            var headForwarded = false
            if case .head = unwrapInboundIn(data) { headForwarded = true }
            context.fireChannelRead(data)
            let operations = context.pipeline.syncOperations
            if let state = try? operations.handler(type: HTTPConnectionStateHandler.self) {
                try? operations.addHandler(make(headForwarded ? 1 : 0), position: .after(state))
            }
            operations.removeHandler(context: context, promise: nil)
        }
    }
}
