import AsyncHTTPClient
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle

/// Runs one poller per configured cluster, sharing one HTTP client (connection pool with
/// keep-alive) and one bound on requests in flight.
public struct PollerService: Service {
    let config: ExporterConfig
    let publish: @Sendable (ClusterSnapshot) -> Void
    let logger: Logger
    let now: @Sendable () -> Double

    public init(config: ExporterConfig, logger: Logger, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                publish: @escaping @Sendable (ClusterSnapshot) -> Void) {
        self.config = config
        self.publish = publish
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.connectionPool.idleTimeout = .seconds(90)
        configuration.dnsOverride = ClusterClient.dnsOverrides(for: config.clusters)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let limiter = RequestLimiter(limit: config.maxConcurrentRequests)
        await withTaskGroup(of: Void.self) { group in
            for cluster in config.clusters {
                let poller = ClusterPoller(
                    cluster: cluster, client: ClusterClient(http: http, limiter: limiter, cluster: cluster),
                    publish: publish, logger: logger, now: now
                )
                group.addTask { await poller.run() }
            }
            // Pollers run until graceful shutdown (or cancellation) ends them.
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try await http.shutdown()
    }
}
