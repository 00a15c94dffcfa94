import FoundationEssentials
import Logging
import ServiceLifecycle
import NIOConcurrencyHelpers
import UnixSignals

/// Reloads the configuration on SIGHUP or POST /-/reload. A valid new configuration is
/// handed to every component at once, each taking its own part; an invalid one changes
/// nothing, is logged, and shows as redis_ocsp_exporter_config_last_reload_successful 0.
actor ConfigReloader: Service, OwnMetricsSource {
    let load: @Sendable () throws -> ExporterConfig
    /// In the order they take the configuration: the scheduler first, so the rule engine
    /// forgets removed clusters after their rounds have stopped.
    let components: [@Sendable (ExporterConfig) async -> Void]
    let logger: Logger
    let now: @Sendable () -> Double
    private nonisolated let status: VersionedBox<(successful: Bool, lastSuccess: Double)>

    init(load: @escaping @Sendable () throws -> ExporterConfig, components: [@Sendable (ExporterConfig) async -> Void], logger: Logger,
         now: @escaping @Sendable () -> Double) {
        self.load = load
        self.components = components
        self.logger = logger
        self.now = now
        status = VersionedBox((true, now()))
    }

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            _ = await reload()
        }
    }

    /// Loads and applies the configuration; on failure the running one stays.
    @discardableResult
    func reload() async -> Result<ExporterConfig, any Error> {
        let config: ExporterConfig
        do {
            config = try load()
        } catch {
            status.mutate { $0.successful = false }
            logger.error("configuration reload failed; the previous configuration stays in force", metadata: ["error": "\(error)"])
            return .failure(error)
        }
        for apply in components { await apply(config) }
        logger.info("configuration reloaded", metadata: ["clusters": "\(config.clusters.count)"])
        let at = now()
        status.mutate { $0 = (true, at) }
        return .success(config)
    }

    nonisolated var metricsVersion: UInt64 { status.version }

    nonisolated func renderMetrics() -> String {
        let (successful, lastSuccess) = status.read { $0 }
        var out = FamilyWriter()
        out.family("redis_ocsp_exporter_config_last_reload_successful", .gauge, "Whether the last configuration reload succeeded.",
                   successful ? 1 : 0)
        out.family("redis_ocsp_exporter_config_last_reload_success_timestamp_seconds", .gauge,
                   "Unix time of the last successful configuration load.", lastSuccess)
        return out.text
    }
}
