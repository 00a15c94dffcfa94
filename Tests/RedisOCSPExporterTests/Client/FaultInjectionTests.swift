import AsyncHTTPClient
import Foundation
import Logging
import OCSPSimulator
import RedisSoftwareAPI
@testable import RedisOCSPExporter
import Testing

/// Network faults between the exporter and a cluster, made by a loopback proxy: each ends in
/// its error_code on the affected cluster and changes nothing for the others.
@Suite(.serialized)
struct FaultInjectionTests {
    /// A reset connection is a connection failure however slow the machine is: reported at
    /// once, not retried until the timeout passes and turns it into a `timeout`.
    @Test func aResetIsReportedAtOnceAsAConnectionFailure() async throws {
        let simulator = try await SimulatorServer.start([SimulatedCluster(name: "a", scenario: .healthy)])
        let proxy = try FaultProxy(upstreamPort: Int(simulator.urls["a"]!.split(separator: ":").last!)!, fault: .reset)
        let config = try ConfigLoader.load(yaml: """
            clusters: [{name: a, url: "https://127.0.0.1:\(proxy.port)", tls: {insecure_skip_verify: true}, timeout: 60s}]
            """, source: "reset.yml")
        let client = ClusterClient(cluster: config.clusters[0], idleTimeout: Scheduler.idleTimeout(keptAlive: true))
        for _ in 0..<3 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(fetch.result.failure?.code == CheckFailure.connectionFailed, "\(fetch.result)")
            // Retried until the timeout, it would take 60 s: half of that is a margin any machine holds.
            #expect(fetch.duration < 30, "took \(fetch.duration) s of the 60 s timeout")
        }
        client.connections.close()
        proxy.stop()
        await simulator.stop()
    }

    @Test func eachFaultGetsItsErrorCodeAndSparesTheOthers() async throws {
        let names = ["control", "reset", "corrupt", "delay-long", "delay-short"]
        let plainNames = ["stall", "truncate"]
        let tlsSimulator = try await SimulatorServer.start(names.map { SimulatedCluster(name: $0, scenario: .healthy) })
        let plainSimulator = try await SimulatorServer.start(plainNames.map { SimulatedCluster(name: $0, scenario: .healthy) }, plainHTTP: true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ca = directory.appendingPathComponent("ca.pem").path
        try tlsSimulator.ca.caCertificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)

        func port(_ url: String) -> Int { Int(url.split(separator: ":").last!)! }
        // The answers carry about 140 bytes of headers: 160 bytes ends inside the body.
        let faults: [String: FaultProxy.Fault] = [
            "reset": .reset, "corrupt": .corrupt, "delay-long": .delay(20), "delay-short": .delay(0.3),
            "stall": .stall(afterBytes: 160), "truncate": .truncate(afterBytes: 160),
        ]
        var proxies: [String: FaultProxy] = [:]
        for (name, fault) in faults {
            let upstream = tlsSimulator.urls[name] ?? plainSimulator.urls[name]!
            proxies[name] = try FaultProxy(upstreamPort: port(upstream), fault: fault)
        }
        // Only the faults that are to end in a timeout get a short one; the rest must never reach theirs.
        var yaml = "poll_interval: 500ms\ntimeout: \(ExporterHarness.timeout)\nclusters:\n"
        for name in names + plainNames {
            let scheme = plainNames.contains(name) ? "http" : "https"
            let url = proxies[name].map { "\(scheme)://127.0.0.1:\($0.port)" } ?? tlsSimulator.urls[name]!
            yaml += "  - {name: \(name), url: \"\(url)\", username: ocsp-monitor@example.com, password: simulated, tls: {ca_file: \(ca)}\(["delay-long", "stall"].contains(name) ? ", timeout: 1s" : "")}\n"
        }
        let config = try ConfigLoader.load(yaml: yaml, source: "faults.yml")
        let store = SnapshotStore(clusters: config.clusters)
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let pollers = Scheduler(config: config, store: store, logger: logger) { _ in }
        let task = Task { try await pollers.run() }
        // Two rounds each, so a fault on a reused connection shows too.
        try await waitUntil("two rounds of every cluster") {
            store.read().entries.allSatisfy { ($0.snapshot.health("config")?.latency.count ?? 0) >= 2 }
        }
        task.cancel()
        _ = try? await task.value
        for proxy in proxies.values { proxy.stop() }
        await tlsSimulator.stop()
        await plainSimulator.stop()

        let snapshots = Dictionary(uniqueKeysWithValues: store.read().entries.map { ($0.snapshot.name, $0.snapshot) })
        func codes(_ name: String) -> Set<String> {
            Set(snapshots[name]?.endpoints.compactMap { $0.errorsTotal.keys.first } ?? [])
        }
        let expected: [String: String] = [
            "reset": "connection_failed", "corrupt": "tls_error", "delay-long": "timeout", "stall": "timeout",
            "truncate": "connection_failed",
        ]
        for (name, code) in expected {
            #expect(codes(name) == [code], "\(name): \(codes(name)) \(snapshots[name]?.endpoints.compactMap { $0.error?.message } ?? [])")
            #expect(snapshots[name]?.status == nil, "\(name) kept a value")
        }
        for name in ["control", "delay-short"] {
            #expect(codes(name).isEmpty, "\(name) failed: \(codes(name))")
            #expect(snapshots[name]?.status?.certStatus == .good)
        }
        #expect(try #require(snapshots["delay-short"]?.health("status")?.latency.sum) >= 0.3 * 2)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let failure) = self { failure } else { nil }
    }
}
