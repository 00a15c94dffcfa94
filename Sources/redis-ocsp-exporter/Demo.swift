import Foundation
import Logging
import OCSPSimulator

/// `--demo`: simulated clusters in several scenarios, served over loopback HTTPS, and the
/// configuration file a user would write for them.
enum DemoFleet {
    static let scenarios: [Scenario] = [.healthy, .disabled, .unsupported, .revoked, .stale, .expiring, .unauthorized, .changing]

    /// Starts the simulated clusters and writes their configuration file.
    static func start(logger: Logger) async throws -> (server: SimulatorServer, configFile: String) {
        let clusters = scenarios.map { SimulatedCluster(name: "demo-\($0.rawValue.replacingOccurrences(of: "_", with: "-"))", scenario: $0) }
        let server = try await SimulatorServer.start(clusters, logger: logger)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-ocsp-exporter-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let caFile = directory.appendingPathComponent("ca.pem").path
        let passwordFile = directory.appendingPathComponent("password").path
        let configFile = directory.appendingPathComponent("config.yml").path
        try server.ca.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        try clusters[0].password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var yaml = "poll_interval: 15s\ntimeout: 5s\nclusters:\n"
        for cluster in clusters {
            yaml += """
                  - name: \(cluster.name)
                    url: \(server.urls[cluster.name]!)
                    username: \(cluster.username)
                    password_file: \(passwordFile)
                    test_interval: 5m
                    tls: {ca_file: \(caFile)}
                    labels: {environment: demo}

                """
        }
        try yaml.write(toFile: configFile, atomically: true, encoding: .utf8)
        logger.info("demo: simulated clusters started", metadata: [
            "clusters": "\(clusters.map(\.name).joined(separator: ","))", "config_file": "\(configFile)",
        ])
        return (server, configFile)
    }
}
