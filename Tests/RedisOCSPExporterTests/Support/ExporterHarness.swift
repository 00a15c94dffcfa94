import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OCSPSimulator
@testable import RedisOCSPExporter

/// Simulated clusters and an exporter pointed at them over real loopback HTTPS, with the
/// configuration written as a user would write it.
final class ExporterHarness: Sendable {
    /// The request timeout of tests whose subject is not a timeout: long enough that only a
    /// hang reaches it, also on a loaded machine.
    static let timeout = "30s"
    /// For the `slow` scenario's cluster, which answers after 5 s (its `slowDelay` in these
    /// tests): 4 s of margin before the answer could beat the timeout.
    static let slowClusterYAML = ["slow": "timeout: 1s"]

    let simulator: SimulatorServer
    let directory: URL
    let port: Int
    let app: ExporterApp
    private let task: Task<Void, any Error>

    /// Runs `body` with a started harness and stops it afterwards, also when `body` throws.
    static func with<T>(
        _ clusters: [SimulatedCluster], pollInterval: String = "300ms", timeout: String = ExporterHarness.timeout,
        extraClusterYAML: [String: String] = [:], extraTopYAML: String = "", configured: [String]? = nil, web: WebConfigSource? = nil,
        limits: ServerLimits = ServerLimits(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onReady: @escaping @Sendable () -> Void = StartupPages.releaseOnce,
        _ body: (ExporterHarness) async throws -> T
    ) async throws -> T {
        let harness = try await start(clusters, pollInterval: pollInterval, timeout: timeout, extraClusterYAML: extraClusterYAML,
                                      extraTopYAML: extraTopYAML, configured: configured, web: web, limits: limits, now: now,
                                      onReady: onReady)
        do {
            let result = try await body(harness)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    /// - Parameters:
    ///   - extraClusterYAML: per cluster name, extra YAML lines for its entry.
    ///   - configured: the clusters in the first configuration (default: all); the others
    ///     are served by the simulator for configurations written later.
    static func start(
        _ clusters: [SimulatedCluster], pollInterval: String = "300ms", timeout: String = ExporterHarness.timeout,
        extraClusterYAML: [String: String] = [:], extraTopYAML: String = "", configured: [String]? = nil, web: WebConfigSource? = nil,
        limits: ServerLimits = ServerLimits(), now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        onReady: @escaping @Sendable () -> Void = StartupPages.releaseOnce
    ) async throws -> ExporterHarness {
        let simulator = try await SimulatorServer.start(clusters)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ocsp-exporter-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let caFile = directory.appendingPathComponent("ca.pem").path
        try simulator.ca.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        var entries: [String: String] = [:]
        for (index, cluster) in clusters.enumerated() {
            let passwordFile = directory.appendingPathComponent("password-\(index)").path
            try "\(cluster.password)\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
            entries[cluster.name] = """
                  - name: \(cluster.name)
                    url: \(simulator.urls[cluster.name]!)
                    username: \(cluster.username)
                    password_file: \(passwordFile)
                    tls: {ca_file: \(caFile)}
                \(extraClusterYAML[cluster.name].map { "    " + $0.replacingOccurrences(of: "\n", with: "\n    ") + "\n" } ?? "")
                """
        }
        let configFile = directory.appendingPathComponent("config.yml").path
        let writeConfig: @Sendable ([String]) throws -> Void = { [entries] names in
            let yaml = "poll_interval: \(pollInterval)\ntimeout: \(timeout)\n\(extraTopYAML)clusters:\n" + names.map { entries[$0]! }.joined()
            try yaml.write(toFile: configFile, atomically: true, encoding: .utf8)
        }
        try writeConfig(configured ?? clusters.map(\.name))
        let config = try ConfigLoader.load(file: configFile)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = try ExporterApp(
            config: config, reload: { try ConfigLoader.load(file: configFile) }, listen: ListenAddress(host: "127.0.0.1", port: 0),
            enableLifecycle: true, web: try web ?? WebConfigSource(), limits: limits, logger: logger, now: now,
            onListening: { port in
                continuation.yield(port)
                continuation.finish()
            },
            onReady: onReady
        )
        let task = Task { try await app.run() }
        var port = 0
        for await p in ports { port = p }
        return ExporterHarness(simulator: simulator, directory: directory, configFile: configFile, writeConfig: writeConfig,
                               port: port, app: app, task: task)
    }

    let configFile: String
    /// Writes a configuration file with the named clusters, as at start.
    let writeConfig: @Sendable ([String]) throws -> Void

    private init(simulator: SimulatorServer, directory: URL, configFile: String, writeConfig: @escaping @Sendable ([String]) throws -> Void,
                 port: Int, app: ExporterApp, task: Task<Void, any Error>) {
        self.simulator = simulator
        self.directory = directory
        self.configFile = configFile
        self.writeConfig = writeConfig
        self.port = port
        self.app = app
        self.task = task
    }

    /// Stops by cancelling the task that runs the exporter, as an embedding program might.
    func cancel() async {
        task.cancel()
        _ = try? await task.value
        await simulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    func stop() async {
        await app.shutdown()
        _ = try? await task.value
        await simulator.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    func get(_ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> (status: Int, headers: [(String, String)], body: ByteBuffer) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await Self.client.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, body)
    }

    /// Leaves bodies as served: the shared client would ask for gzip and inflate it unasked.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(decompression: .disabled))

    func metricsText() async throws -> String {
        String(buffer: try await get("/metrics").body)
    }

    func metrics() async throws -> Samples {
        Samples(try await metricsText())
    }

    /// Waits until every cluster (or each of `only`) has finished `rounds` more poll rounds
    /// from now, and the rule engine has taken what they stored. Clusters not polled yet
    /// count from zero. A round is a request to `endpoint`: the endpoints asked rarely
    /// (`health`, `cluster`) have a lane of their own.
    func waitForRounds(_ rounds: UInt64 = 1, only: Set<String>? = nil, endpoint: String = "config",
                       timeout: Duration = .seconds(60)) async throws {
        let roundsDone = { self.roundsDone(endpoint) }
        let start = roundsDone()
        try await waitUntil("\(rounds) more poll round(s)", timeout: timeout) {
            roundsDone().allSatisfy { name, done in only.map { !$0.contains(name) } ?? false || done >= (start[name] ?? 0) + rounds }
        }
        try await waitUntil("the rules to take the rounds", timeout: timeout) {
            let evaluated = app.rules.evaluatedVersions()
            return app.store.read().entries.allSatisfy { entry in
                only.map { !$0.contains(entry.snapshot.name) } ?? false || entry.snapshot.polledAt == nil
                    || (evaluated[entry.snapshot.name] ?? 0) >= entry.version
            }
        }
    }

    /// The built-in rules on every stored snapshot, evaluated at `start` and again at `end`:
    /// each cluster's alert names active at `end` (pending too, unless `firingOnly`).
    func alertsByCluster(evaluatedAt start: Double, then end: Double, firingOnly: Bool = false) -> [String: Set<String>] {
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let evaluator = RuleEngine(rules: RulesConfig(), resendInterval: .seconds(60), logger: logger)
        var byCluster: [String: Set<String>] = [:]
        for entry in app.store.read().entries {
            _ = evaluator.evaluate(entry.snapshot, now: start)
            let active = evaluator.evaluate(entry.snapshot, now: end).active
            byCluster[entry.snapshot.name] = Set(active.filter { !firingOnly || $0.state == .firing }.map(\.rule.name))
        }
        return byCluster
    }

    /// Waits until every configured stapling probe endpoint has been probed.
    func waitForStaplingProbes(timeout: Duration = .seconds(60)) async throws {
        try await waitUntil("the stapling probes", timeout: timeout) {
            app.store.read().entries.allSatisfy { $0.snapshot.stapling.allSatisfy { $0.result != nil } }
        }
    }

    /// Per cluster, the rounds completed: every round makes exactly one config request.
    private func roundsDone(_ endpoint: String) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: app.store.read().entries.map { ($0.snapshot.name, $0.snapshot.health(endpoint)?.latency.count ?? 0) })
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Samples of an exposition, by series text exactly as served (`name{labels}`).
struct Samples {
    var values: [String: Double] = [:]
    var text: String

    init(_ text: String) {
        self.text = text
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            values[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
    }

    subscript(_ series: String) -> Double? { values[series] }

    /// Series of a metric name whose labels include all of `labels` (`name="value"` pairs).
    func series(_ name: String, _ labels: [String] = []) -> [String: Double] {
        values.filter { key, _ in
            (key == name || key.hasPrefix(name + "{")) && labels.allSatisfy { key.contains($0) }
        }
    }
}
