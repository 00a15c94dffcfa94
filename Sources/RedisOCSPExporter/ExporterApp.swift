import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The whole exporter wired together: pollers feeding the snapshot store, and the HTTP server
/// reading it. `main` builds one from parsed flags; tests build one on a free port.
public struct ExporterApp: Sendable {
    public let store: SnapshotStore
    let pollers: PollerService
    let server: Application<RouterResponder<BasicRequestContext>>
    let logger: Logger

    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public init(
        config: ExporterConfig, listen: ListenAddress, telemetryPath: String = "/metrics", logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        let store = SnapshotStore(clusters: config.clusters)
        self.store = store
        self.logger = logger
        pollers = PollerService(config: config, store: store, logger: logger)
        let router = Routes.router(telemetryPath: telemetryPath, store: store, page: MetricsPage(store: store))
        var serverLogger = logger
        // Hummingbird logs every request at info; that is noise for a scrape target.
        serverLogger.logLevel = max(logger.logLevel, .notice)
        server = Application(
            router: router,
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "redis-ocsp-exporter"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? listen.port) },
            logger: serverLogger
        )
    }

    /// Runs until SIGTERM or SIGINT (or cancellation), then stops polling, lets in-flight
    /// requests finish and returns.
    public func run() async throws {
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: pollers), .init(service: server)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
