import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import OCSPSimulator
import RedisOCSPExporter

/// Command-line entry point: flags in the style of Prometheus exporters, then wiring.
@main
struct ExporterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-ocsp-exporter",
        abstract: "Prometheus exporter for the OCSP stapling state of Redis Software clusters.",
        discussion: """
            Give a configuration file (--config.file), a single cluster (--cluster.url and friends, or their \
            REDIS_OCSP_CLUSTER_* environment variables), or --demo to run against built-in simulated clusters.
            """,
        version: RedisOCSPExporter.BuildInfo.description,
        subcommands: [CheckCommand.self, RulesCommand.self]
    )

    @OptionGroup var source: ClusterSource

    @Flag(name: .customLong("config.check"), help: "Validate the configuration, print the result and exit (1 if invalid).")
    var configCheck = false

    @Option(name: .customLong("web.listen-address"), help: "Address to listen on for HTTP requests.")
    var listenAddress = ":\(ListenAddress.defaultPort)"

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics.")
    var telemetryPath = "/metrics"

    @Option(name: .customLong("web.external-url"), help: "URL under which users reach the exporter; alerts sent to Alertmanager link to it (default: the listen address).")
    var externalURL: String?

    @Option(name: .customLong("log.level"), help: "Only log messages with the given severity or above: debug, info, warn, error.")
    var logLevel = "info"

    @Option(name: .customLong("log.format"), help: "Output format of log messages: logfmt or json.")
    var logFormat = "logfmt"

    @Option(name: .customLong("web.config.file"), help: "Web configuration (TLS, basic auth, headers) in the Prometheus exporter-toolkit format.")
    var webConfigFile: String?

    @Option(name: .customLong("web.max-connections"), help: "Maximum number of connections served at once.")
    var maxConnections = 256

    @Flag(name: .customLong("web.enable-lifecycle"), help: "Serve POST /-/reload (SIGHUP reloads the configuration in any case).")
    var enableLifecycle = false

    @Option(name: .customLong("shard"), help: "I/N: poll only the clusters whose name hashes to shard I of N, so N replicas split the fleet (overrides shard: in the file) [env: REDIS_OCSP_SHARD].")
    var shardText: String?

    @Flag(help: "Start simulated clusters in several scenarios in-process and export them.")
    var demo = false

    /// Set first thing in `main`, before any task runs (see `ExporterApp.runConcurrencyOnEventLoops`).
    static let concurrencyOnEventLoops = ExporterApp.runConcurrencyOnEventLoops()

    /// As ArgumentParser runs a command, except that `check` reports a usage error as UNKNOWN
    /// (3), which is what a monitoring plugin's caller expects, not 64.
    static func main() async {
        _ = concurrencyOnEventLoops
        Heap.mapLargeBlocksSeparately()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand { try await command.run() } else { try command.run() }
        } catch {
            if CommandLine.arguments.dropFirst().first == "check", exitCode(for: error) == .validationFailure {
                StandardStream.write(fullMessage(for: error) + "\n", to: STDERR_FILENO)
                Glibc.exit(CheckCommand.unknown)
            }
            exit(withError: error)
        }
    }

    func validate() throws {
        guard ["debug", "info", "warn", "error"].contains(logLevel) else {
            throw ValidationError("--log.level must be one of debug, info, warn, error; got \(logLevel)")
        }
        guard ExporterLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log.format must be logfmt or json; got \(logFormat)")
        }
        guard (1...65536).contains(maxConnections) else {
            throw ValidationError("--web.max-connections must be between 1 and 65536; got \(maxConnections)")
        }
        guard ListenAddress(listen: listenAddress) != nil else {
            throw ValidationError("--web.listen-address must be host:port or :port; got \(listenAddress)")
        }
        if let text = shardText ?? ProcessInfo.processInfo.environment["REDIS_OCSP_SHARD"], Shard(text) == nil {
            throw ValidationError("--shard must be I/N with 0 <= I < N (e.g. 0/3); got \(text)")
        }
        if let externalURL, URLComponents(string: externalURL)?.host == nil || !externalURL.hasPrefix("http") {
            throw ValidationError("--web.external-url must be an absolute http(s) URL; got \(externalURL)")
        }
        guard telemetryPath.hasPrefix("/"), telemetryPath != "/", !telemetryPath.hasPrefix("/-/") else {
            throw ValidationError("--web.telemetry-path must start with / and not be / or under /-/; got \(telemetryPath)")
        }
    }

    func run() async throws {
        let level: Logger.Level = ["debug": .debug, "warn": .warning, "error": .error][logLevel] ?? .info
        let format = ExporterLogHandler.Format(rawValue: logFormat)!
        LoggingSystem.bootstrap { label in ExporterLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "redis-ocsp-exporter")

        var demoFleet: DemoFleet?
        let load: @Sendable () throws -> ExporterConfig
        let config: ExporterConfig
        let web: WebConfigSource
        do {
            web = try webConfigFile.map { try WebConfigSource(file: $0, logger: logger) } ?? WebConfigSource()
            if demo {
                let fleet = try await DemoFleet.start(logger: logger)
                demoFleet = fleet
                load = { [shard] in try ConfigLoader.load(file: fleet.configFile, shard: shard) }
            } else {
                load = try source.load(shard: shard)
            }
            config = try load()
        } catch let error as ConfigError {
            printError(error.description)
            throw ExitCode(1)
        }
        for warning in config.warnings where !demo {
            if configCheck { printError("warning: \(warning)") } else { logger.warning("configuration weakens security", metadata: ["warning": "\(warning)"]) }
        }
        if configCheck {
            print("config OK: \(config.clusters.count) cluster(s)")
            await demoFleet?.stop()
            return
        }

        let listen = ListenAddress(listen: listenAddress)!
        var limits = ServerLimits()
        limits.maxConnections = maxConnections
        let path = telemetryPath
        let app = try ExporterApp(
            config: config, reload: load, listen: listen, telemetryPath: path, externalURL: externalURL,
            enableLifecycle: enableLifecycle, web: web, limits: limits, logger: logger,
            onListening: { port in
                let bound = ListenAddress(host: listen.host, port: port)
                logger.info("listening", metadata: ["address": "\(bound)", "metrics": "\(bound.browsableURL(tls: web.servesTLS))\(path)"])
            }
        )
        var metadata: Logger.Metadata = [
            "version": "\(RedisOCSPExporter.BuildInfo.version)", "revision": "\(RedisOCSPExporter.BuildInfo.revision)",
            "clusters": "\(config.clusters.count)", "executor": "\(Self.concurrencyOnEventLoops ? "event_loops" : "swift")",
        ]
        if let shard = config.shard { metadata["shard"] = "\(shard)" }
        logger.info("starting redis-ocsp-exporter", metadata: metadata)
        do {
            try await app.run()
        } catch {
            await demoFleet?.stop()
            logger.error("exporter stopped", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        await demoFleet?.stop()
        logger.info("stopped")
    }

    /// --shard, else REDIS_OCSP_SHARD; checked in validate().
    private var shard: Shard? {
        (shardText ?? ProcessInfo.processInfo.environment["REDIS_OCSP_SHARD"]).flatMap(Shard.init)
    }

}

func printError(_ text: String) {
    StandardStream.write("redis-ocsp-exporter: \(text)\n", to: STDERR_FILENO)
}

