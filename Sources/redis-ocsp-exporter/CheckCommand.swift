import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import RedisOCSPExporter

/// `redis-ocsp-exporter check`: asks the clusters once, prints what it found and exits with
/// the monitoring-plugins status of the worst cluster (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the clusters' OCSP stapling once, print a report and exit 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN.",
        discussion: "Runs every configured check of each cluster once (the stapling probes with --stapling) and the built-in rules with `for` ignored."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, nagios }

    @OptionGroup var source: ClusterSource

    @Option(name: .customLong("cluster"), help: "Check only this cluster (repeatable; default: every configured cluster).")
    var names: [String] = []

    @Flag(name: .customLong("stapling"), help: "Run the configured stapling probes too.")
    var stapling = false

    @Option(name: .customLong("format"), help: "text, json or nagios (one plugin line with performance data).")
    var format: Format = .text

    /// Usage and configuration problems are UNKNOWN, as plugins report them.
    static let unknown: Int32 = 3

    func run() async throws {
        var logger = Logger(label: "redis-ocsp-exporter") { label in ExporterLogHandler(label: label, level: .error, format: .logfmt) }
        logger.logLevel = .error
        var config: ExporterConfig
        do {
            config = try source.load(shard: nil, missing: Self.unknown)()
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(Self.unknown)
        }
        if !names.isEmpty {
            if let missing = names.first(where: { !config.clusterNames.contains($0) }) {
                printError("--cluster: no cluster named \"\(missing)\" is configured (configured: \(config.clusterNames.joined(separator: ", ")))")
                throw ExitCode(Self.unknown)
            }
            config.keepOnly(names)
        }
        let report = await OneShotCheck.run(config, stapling: stapling, logger: logger)
        let color = isatty(STDOUT_FILENO) != 0 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        let output = switch format {
        case .text: report.text(color: color)
        case .json: report.json()
        case .nagios: report.nagios()
        }
        StandardStream.write(output, to: STDOUT_FILENO)
        throw ExitCode(report.status.exitCode)
    }
}
