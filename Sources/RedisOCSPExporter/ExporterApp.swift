import CConcurrencyHook
import FoundationEssentials
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The whole exporter wired together: the scheduler's check rounds feeding the snapshot
/// store and the rule engine, the notifier, the reloader, and the HTTP server reading both. `main`
/// builds one from parsed flags; tests build one on a free port.
public struct ExporterApp: Sendable {
    let store: SnapshotStore
    let rules: RuleEngine
    let reloader: ConfigReloader
    let scheduler: Scheduler
    /// The routes the server answers (besides the fast path), for in-process tests too.
    let responder: RouterResponder<BasicRequestContext>
    let fastPath = MetricsFastPath.Counters()
    private let group: ServiceGroup

    /// - Parameters:
    ///   - reload: reads the configuration again, for SIGHUP and POST /-/reload.
    ///   - enableLifecycle: serve POST /-/reload (as Prometheus's --web.enable-lifecycle).
    ///   - web: TLS, authentication and headers of the exporter's own server, re-read as they change.
    ///   - limits: what the server allows a client.
    ///   - externalURL: how users reach this exporter; alerts link to it. Default: the listen address.
    ///   - now: wall-clock time in Unix seconds, replaceable so tests control time.
    ///   - onListening: called with the bound port once the server accepts connections.
    ///   - onReady: called once, when every cluster's first round is done (see `StartupPages`).
    public init(
        config: ExporterConfig, reload: (@Sendable () throws -> ExporterConfig)? = nil, listen: ListenAddress,
        telemetryPath: String = "/metrics", externalURL: String? = nil, enableLifecycle: Bool = false, web: WebConfigSource,
        limits: ServerLimits = ServerLimits(), logger: Logger, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onListening: @escaping @Sendable (Int) async -> Void = { _ in },
        onReady: @escaping @Sendable () -> Void = StartupPages.releaseOnce
    ) throws {
        let store = SnapshotStore(clusters: config.clusters)
        self.store = store
        let notifier = AlertmanagerNotifier(
            config: config.alertmanager, evaluationInterval: config.evaluationInterval,
            generatorURL: (externalURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? listen.browsableURL(tls: web.servesTLS)) + "/",
            logger: logger
        )
        let rules = RuleEngine(
            rules: config.rules, resendInterval: config.resendInterval, evaluationInterval: config.evaluationInterval, logger: logger,
            notify: notifier.enqueue, store: store, now: now
        )
        self.rules = rules
        let renderer = ClusterRenderer()
        let ready = NIOLockedValueBox(false)
        let scheduler = Scheduler(config: config, store: store, logger: logger, now: now) { entry in
            renderer.update(entry)
            let becameReady = ready.withLockedValue { done -> Bool in
                guard !done, store.firstRoundDone else { return false }
                done = true
                return true
            }
            if becameReady { onReady() }
        }
        self.scheduler = scheduler
        let reloader = ConfigReloader(load: reload ?? { config }, components: [
            { await scheduler.apply($0) },
            { rules.apply(rules: $0.rules, resendInterval: $0.resendInterval, evaluationInterval: $0.evaluationInterval, clusters: Set($0.clusterNames)) },
            { notifier.update(config: $0.alertmanager, evaluationInterval: $0.evaluationInterval) },
        ], logger: logger, now: now)
        self.reloader = reloader
        let fastPath = self.fastPath
        let page = MetricsPage(
            store: store, renderer: renderer, rules: rules, ownSources: [notifier, reloader, web, fastPath])
        let router = Routes.router(
            telemetryPath: telemetryPath, store: store, rules: rules, page: page, reloader: enableLifecycle ? reloader : nil, web: web,
            probe: { [probes = SharedCalls<String, ClusterSnapshot?>()] name, limit in
                await probes.run(name) { await scheduler.probe(name, limit: limit) }
            }, now: now
        )
        responder = router.buildResponder()
        var serverLogger = logger
        // Hummingbird logs every request at info; that is noise for a scrape target.
        serverLogger.logLevel = max(logger.logLevel, .notice)
        let serverName = "redis-ocsp-exporter"
        let settings = MetricsFastPath.Settings(
            path: telemetryPath, page: page, web: web, server: MetricsResponse.ServerFields(serverName: serverName), counters: fastPath)
        let http1 = limits.http1 { [logger] in [MetricsFastPath.Installer(settings, logger: logger)] }
        let deadline = limits.requestTimeout
        let builder: HTTPServerBuilder = web.servesTLS
            ? HTTPServerBuilder { responder in
                PrefixedChannel.reloadingTLS(PrefixedChannel.requestDeadline(HTTP1Channel(responder: responder, configuration: http1), limit: deadline), web: web)
            }
            : HTTPServerBuilder { responder in PrefixedChannel.requestDeadline(HTTP1Channel(responder: responder, configuration: http1), limit: deadline) }
        let server = Application(
            responder: responder,
            server: builder,
            configuration: .init(
                address: .hostname(listen.host, port: listen.port), serverName: serverName,
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? listen.port
                if externalURL == nil {
                    notifier.setGeneratorURL(ListenAddress(host: listen.host, port: port).browsableURL(tls: web.servesTLS) + "/")
                }
                await onListening(port)
            },
            eventLoopGroupProvider: .shared(Self.serverLoop),
            logger: serverLogger
        )
        let services: [any Service] = [scheduler, rules, notifier, reloader, server]
        group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ))
    }

    /// Runs Swift concurrency's jobs on NIO's shared event loops, where the REST client's
    /// connections live: a round resumes on the loop that read its answer instead of waking a
    /// thread of Swift's own pool for every request and back (those hand-offs were 40% of a
    /// poll's CPU). What NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`
    /// does, but with the hook linked by name: that one looks it up with dlsym, which finds
    /// nothing in a binary with the standard library linked statically, as the release is.
    /// Call once, first in `main`, before any task runs; false when another hook is installed.
    public static func runConcurrencyOnEventLoops() -> Bool {
        typealias Enqueue = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        // `any()` is the current loop when called on one: a job enqueued from a loop stays there.
        // The job runs as the global executor's (as the loop's own `enqueue` would not), so
        // its nonisolated code goes on in place instead of hopping through the queue again.
        let enqueue: Enqueue = { job, _ in
            MultiThreadedEventLoopGroup.singleton.any().execute { job.runSynchronously(on: globalConcurrentExecutor.asUnownedTaskExecutor()) }
        }
        let hook = redis_ocsp_enqueue_global_hook()
        guard hook.pointee == nil else { return false }
        hook.pointee = unsafeBitCast(enqueue, to: UnsafeMutableRawPointer.self)
        return true
    }

    /// One event loop serves HTTP, apart from the loops the REST client polls on. Serving a
    /// cached page takes microseconds, so one thread is plenty, and with two, the kernel's
    /// time slices between them turn into milliseconds of scrape latency on a busy core.
    static let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Runs until SIGTERM or SIGINT (or `shutdown()`), then stops polling, lets in-flight
    /// requests finish and returns.
    /// Cancelling the calling task shuts down gracefully too: the services run apart from the
    /// caller's cancellation, which would otherwise tear down connections mid-answer.
    public func run() async throws {
        let group = self.group
        let running = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await running.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// Shuts down as SIGTERM does.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

/// Bounds on what one client can make the server hold: connections, header size, idle time.
public struct ServerLimits: Sendable {
    /// Connections served at once; more wait in the listen backlog.
    public var maxConnections = 256
    /// A connection with no request in flight is closed after this long.
    var idleTimeout: TimeAmount = .seconds(30)
    /// A request's head must arrive within this long of the connection's start or of the
    /// request's first byte, however it trickles in (see `RequestDeadlineHandler`).
    var requestTimeout: TimeAmount = .seconds(5)
    /// Scrapes send a few hundred bytes of headers; this leaves room and refuses abuse.
    var maxHeaderBytes = 16 * 1024

    public init() {}

    func http1(additionalChannelHandlers: @escaping @Sendable () -> [any RemovableChannelHandler]) -> HTTP1Channel.Configuration {
        .init(
            additionalChannelHandlers: additionalChannelHandlers(), idleTimeout: idleTimeout,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: 100)
        )
    }
}
