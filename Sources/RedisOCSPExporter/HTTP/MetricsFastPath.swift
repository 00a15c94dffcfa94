import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers `GET <telemetry path>` on the event loop straight from the cached page, without the
/// router and without a hop to Swift concurrency and back: that hop costs more than sending
/// the bytes. Anything else, a scrape whose page must be built first (which can take long
/// for a large fleet and must not block the event loop), and every request while basic auth
/// is configured or the web configuration is due for a look, goes on to the router as usual.
///
/// It sits after Hummingbird's connection state handler, so idle timeouts and graceful
/// shutdown see its requests; `Installer` puts it there once that handler is in place.
final class MetricsFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the fast path did. Only the install failures are exposed: a count of answers
    /// would change the exporter's own metrics on every scrape and so the page itself. The
    /// answers are counted for the tests that prove the fast path is taken.
    final class Counters: OwnMetricsSource {
        let answered = Atomic(0)
        let installFailures = Atomic<UInt64>(0)

        var metricsVersion: UInt64 { installFailures.load(ordering: .relaxed) }

        func renderMetrics() -> String {
            var out = FamilyWriter()
            out.family("redis_ocsp_exporter_metrics_fast_path_install_failures_total", .counter,
                       "Connections where the cached-scrape fast path could not be installed; their scrapes go through the router.",
                       Double(installFailures.load(ordering: .relaxed)))
            return out.text
        }
    }

    struct Settings: Sendable {
        let path: String
        let page: MetricsPage
        let web: WebConfigSource
        let server: MetricsResponse.ServerFields
        let counters: Counters
    }

    let settings: Settings
    /// Requests handed to the router whose response has not ended: answering out of turn
    /// would reorder pipelined responses.
    private var outstanding: Int
    /// The request being answered here, until its end arrives.
    private var answer: (body: MetricsBody, gzip: Bool, close: Bool, headers: HTTPFields)?

    init(_ settings: Settings, outstanding: Int) {
        self.settings = settings
        self.outstanding = outstanding
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            let gzip = AcceptEncoding.prefersGzip(request.headerFields[.acceptEncoding])
            if outstanding == 0, request.method == .get, request.path?.split(separator: "?", maxSplits: 1).first.map(String.init) == settings.path,
               let web = settings.web.configUnlessDue, web.users.isEmpty, let body = settings.page.cached(gzip: gzip) {
                answer = (body, gzip, Self.asksToClose(request.headerFields[values: .connection]), web.headerFields)
                return
            }
            outstanding += 1
            context.fireChannelRead(data)
        case .body:
            if answer == nil { context.fireChannelRead(data) }
        case .end:
            guard let (body, gzip, close, headers) = answer else {
                context.fireChannelRead(data)
                return
            }
            answer = nil
            var fields = MetricsResponse.fields(bodyLength: body.length, gzip: gzip)
            for field in headers { fields[field.name] = field.value }
            settings.server.add(to: &fields)
            settings.counters.answered.wrappingAdd(1, ordering: .relaxed)
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: fields))), promise: nil)
            for part in body.parts { context.write(wrapOutboundOut(.body(part)), promise: nil) }
            guard close else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            // As the router path does: the connection ends after this answer.
            let channel = context.channel
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { outstanding -= 1 }
        context.write(data, promise: promise)
    }

    /// `Connection: close`, in any case and among other tokens (RFC 9110 §7.6.1).
    static func asksToClose(_ values: [String]) -> Bool {
        values.contains { value in
            value.utf8.split(separator: UInt8(ascii: ",")).contains { token in
                token.filter { $0 != 0x20 && $0 != 0x09 }.map { $0 | 0x20 }.elementsEqual("close".utf8)
            }
        }
    }

    /// Added with the HTTP handlers, before Hummingbird's connection state handler exists; on
    /// the first request it puts the fast path after that handler and leaves. Should a
    /// Hummingbird release change its pipeline so the handler is not found, scrapes still work
    /// through the router: the failure is logged once and counted.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart

        let settings: Settings
        let logger: Logger
        private static let logged = Atomic(false)

        init(_ settings: Settings, logger: Logger) {
            self.settings = settings
            self.logger = logger
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // This first request goes to the router; the fast path then waits for its answer.
            var headForwarded = false
            if case .head = unwrapInboundIn(data) { headForwarded = true }
            context.fireChannelRead(data)
            let operations = context.pipeline.syncOperations
            do {
                let state = try operations.handler(type: HTTPConnectionStateHandler.self)
                try operations.addHandler(MetricsFastPath(settings, outstanding: headForwarded ? 1 : 0), position: .after(state))
            } catch {
                settings.counters.installFailures.wrappingAdd(1, ordering: .relaxed)
                if !Self.logged.exchange(true, ordering: .relaxed) {
                    logger.error("cached-scrape fast path not installed; scrapes go through the router", metadata: ["error": "\(error)"])
                }
            }
            operations.removeHandler(context: context, promise: nil)
        }
    }
}
