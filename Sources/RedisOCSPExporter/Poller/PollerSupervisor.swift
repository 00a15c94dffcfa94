import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Runs one poller per configured cluster (and its stapling prober, when configured), sharing
/// one HTTP client (connection pool with keep-alive) and one bound on requests in flight, and
/// applies new configurations: only the clusters that were added, removed or changed are touched.
public actor PollerSupervisor: Service {
    private struct Client {
        var http: HTTPClient
        var limiter: RequestLimiter
        /// What the client was built for: a change means a new client.
        var dnsOverrides: [String: String]
        var maxConcurrentRequests: Int
        var idleTimeout: TimeAmount
    }

    /// Fleets up to this size keep each cluster's connections open between polls.
    static let keepAliveFleetLimit = 1000

    /// How long an idle connection stays in the pool. An idle TLS connection holds about
    /// 40 KB, so a fleet of thousands keeps each cluster's connection for its round only;
    /// smaller fleets keep it for the next poll and skip the handshake.
    static func idleTimeout(clusters: Int) -> TimeAmount {
        clusters <= keepAliveFleetLimit ? .seconds(90) : .seconds(2)
    }

    let store: SnapshotStore
    /// Called with a cluster's whole snapshot after each publish to the store (the rule engine).
    let published: @Sendable (ClusterSnapshot) -> Void
    let logger: Logger
    let now: @Sendable () -> Double
    private var config: ExporterConfig
    private var client: Client?
    /// The poller task (with its prober) of each cluster.
    private var running: [String: Task<Void, Never>] = [:]

    public init(config: ExporterConfig, store: SnapshotStore, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                published: @escaping @Sendable (ClusterSnapshot) -> Void) {
        self.config = config
        self.store = store
        self.published = published
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        await apply(config)
        try? await gracefulShutdown()
        await stop(Array(running.keys))
        try await client?.http.shutdown()
        client = nil
    }

    /// Starts, stops and restarts pollers so that exactly `newConfig`'s clusters are polled.
    /// The REST client's settings for a fleet of `clusters`.
    static func httpConfiguration(clusters: Int, dnsOverrides: [String: String]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.connectionPool.idleTimeout = idleTimeout(clusters: clusters)
        // A connection that fails is reported at once as what it was (refused, reset, TLS), not
        // retried until the timeout passes and makes it a `timeout`: the next round tries again.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = dnsOverrides
        return configuration
    }

    public func apply(_ newConfig: ExporterConfig) async {
        // Clusters whose settings are unchanged keep their pollers and data.
        let unchanged = Set(newConfig.clusters.filter { new in
            config.clusters.first { $0.name == new.name }?.sameSettings(as: new) ?? false
        }.map(\.name))
        let overrides = ClusterClient.dnsOverrides(for: newConfig.clusters)
        let newClient = client.map {
            $0.dnsOverrides != overrides || $0.maxConcurrentRequests != newConfig.maxConcurrentRequests
                || $0.idleTimeout != Self.idleTimeout(clusters: newConfig.clusters.count)
        } ?? true
        // Removed and changed clusters stop; with a new client, every poller moves to it.
        await stop(Array(running.keys.filter { newClient || !unchanged.contains($0) }))
        if newClient {
            try? await client?.http.shutdown()
            let configuration = Self.httpConfiguration(clusters: newConfig.clusters.count, dnsOverrides: overrides)
            client = Client(
                http: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration),
                limiter: RequestLimiter(limit: newConfig.maxConcurrentRequests), dnsOverrides: overrides,
                maxConcurrentRequests: newConfig.maxConcurrentRequests, idleTimeout: configuration.connectionPool.idleTimeout
            )
        }
        store.setClusters(newConfig.clusters, keeping: unchanged)
        config = newConfig
        guard let client else { return }
        let (store, published) = (self.store, self.published)
        for cluster in newConfig.clusters where running[cluster.name] == nil {
            let start = store.entry(cluster.name)?.snapshot ?? ClusterSnapshot(cluster: cluster)
            let poller = ClusterPoller(
                cluster: cluster, client: ClusterClient(http: client.http, limiter: client.limiter, cluster: cluster),
                publish: { store.publish($0).map(published) }, logger: logger, now: now, start: start
            )
            let prober = cluster.staplingProbe.map { probe in
                StaplingProber(
                    cluster: cluster.name, config: probe,
                    publish: { store.publish(stapling: $0, cluster: cluster.name).map(published) }, logger: logger, start: start.stapling
                )
            }
            running[cluster.name] = Task {
                await withDiscardingTaskGroup { group in
                    group.addTask { await poller.run() }
                    if let prober { group.addTask { await prober.run() } }
                }
            }
        }
    }

    /// Polls one configured cluster now, apart from its poller and without touching the store,
    /// for /probe: its REST endpoints and, when configured, its stapling probe, each bounded by
    /// `limit` as well as by the cluster's own timeouts. Returns nil for an unknown cluster.
    public nonisolated func probe(_ name: String, limit: Duration) async -> ClusterSnapshot? {
        guard let (cluster, client) = await probeSetup(name) else { return nil }
        var bounded = cluster
        bounded.timeout = min(cluster.timeout, limit)
        bounded.staplingProbe?.timeout = min(cluster.staplingProbe?.timeout ?? limit, limit)
        // One-off polls would log every error as new; the pollers report transitions.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let fresh = ClusterSnapshot(cluster: cluster)
        let poller = ClusterPoller(
            cluster: bounded, client: ClusterClient(http: client.http, limiter: client.limiter, cluster: bounded),
            publish: { _ in }, logger: quiet, now: now, start: fresh
        )
        let prober = bounded.staplingProbe.map {
            StaplingProber(cluster: name, config: $0, publish: { _ in }, logger: quiet, start: fresh.stapling)
        }
        async let stapling = prober?.probeRound(after: fresh.stapling)
        guard var snapshot = try? await poller.pollRound(after: fresh, runTest: false, concurrently: true) else { return nil }
        snapshot.stapling = await stapling ?? []
        return snapshot
    }

    private func probeSetup(_ name: String) -> (ClusterConfig, Client)? {
        guard let cluster = config.clusters.first(where: { $0.name == name }), let client else { return nil }
        return (cluster, client)
    }

    private func stop(_ names: [String]) async {
        let stopping = names.compactMap { running.removeValue(forKey: $0) }
        for task in stopping { task.cancel() }
        for task in stopping { await task.value }
    }
}

extension ClusterConfig {
    /// Whether two configurations poll the same way; a password read anew from its file
    /// counts, so a rotated secret takes effect on reload.
    func sameSettings(as other: ClusterConfig) -> Bool {
        name == other.name && baseURL == other.baseURL && credentials?.username == other.credentials?.username
            && credentials?.password.value == other.credentials?.password.value && pollInterval == other.pollInterval
            && timeout == other.timeout && testInterval == other.testInterval && serverName == other.serverName
            && labels.map { "\($0.name)=\($0.value)" } == other.labels.map { "\($0.name)=\($0.value)" }
            && tls.bestEffortEquals(other.tls) && staplingProbe == other.staplingProbe
    }
}
