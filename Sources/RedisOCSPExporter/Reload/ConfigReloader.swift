import Foundation
import Logging
import ServiceLifecycle
import NIOConcurrencyHelpers
import UnixSignals

/// Reloads the configuration on SIGHUP or POST /-/reload. A valid new configuration is
/// applied to every component at once; an invalid one changes nothing, is logged, and shows
/// as redis_ocsp_exporter_config_last_reload_successful 0.
public actor ConfigReloader: Service {
    let load: @Sendable () throws -> ExporterConfig
    let supervisor: PollerSupervisor
    let evaluator: AlertEvaluator
    let notifier: AlertmanagerNotifier
    let rules: RuleService
    let logger: Logger
    let now: @Sendable () -> Double
    private var clusters: Set<String>
    private nonisolated let status: NIOLockedValueBox<(successful: Bool, lastSuccess: Double)>

    init(
        initial: ExporterConfig, load: @escaping @Sendable () throws -> ExporterConfig, supervisor: PollerSupervisor,
        evaluator: AlertEvaluator, notifier: AlertmanagerNotifier, rules: RuleService, logger: Logger, now: @escaping @Sendable () -> Double
    ) {
        self.load = load
        self.supervisor = supervisor
        self.evaluator = evaluator
        self.notifier = notifier
        self.rules = rules
        self.logger = logger
        self.now = now
        clusters = Set(initial.clusters.map(\.name))
        status = NIOLockedValueBox((true, now()))
    }

    public func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            _ = await reload()
        }
    }

    /// Loads and applies the configuration; on failure the running one stays.
    @discardableResult
    public func reload() async -> Result<ExporterConfig, any Error> {
        let config: ExporterConfig
        do {
            config = try load()
        } catch {
            status.withLockedValue { $0.successful = false }
            logger.error("configuration reload failed; the previous configuration stays in force", metadata: ["error": "\(error)"])
            return .failure(error)
        }
        await supervisor.apply(config)
        let names = Set(config.clusters.map(\.name))
        for removed in clusters.subtracting(names) { evaluator.remove(cluster: removed) }
        evaluator.update(rules: config.rules, resendInterval: config.alertmanager?.resendInterval ?? .seconds(60))
        notifier.update(config: config.alertmanager, evaluationInterval: config.evaluationInterval)
        rules.update(interval: config.evaluationInterval)
        logger.info("configuration reloaded", metadata: [
            "clusters": "\(names.count)", "added": "\(names.subtracting(clusters).sorted().joined(separator: ","))",
            "removed": "\(clusters.subtracting(names).sorted().joined(separator: ","))",
        ])
        clusters = names
        let at = now()
        status.withLockedValue { $0 = (true, at) }
        return .success(config)
    }

    /// Rendered on every scrape, so the constant parts are made once.
    private static let successfulHeader = Exposition.header(
        name: "redis_ocsp_exporter_config_last_reload_successful", help: "Whether the last configuration reload succeeded.", type: .gauge)
    private static let timestampHeader = Exposition.header(
        name: "redis_ocsp_exporter_config_last_reload_success_timestamp_seconds", help: "Unix time of the last successful configuration load.", type: .gauge)

    nonisolated func renderMetrics() -> String {
        let (successful, lastSuccess) = status.withLockedValue { $0 }
        return Self.successfulHeader + "redis_ocsp_exporter_config_last_reload_successful \(successful ? 1 : 0)\n"
            + Self.timestampHeader + "redis_ocsp_exporter_config_last_reload_success_timestamp_seconds \(Exposition.formatValue(lastSuccess))\n"
    }
}
