import FoundationEssentials
import Glibc
import Logging
import OCSPSimulator

/// `--demo`: simulated clusters in several scenarios, served over loopback HTTPS, TLS
/// endpoints that staple what their cluster reports (GOOD, REVOKED, nothing while OCSP is
/// off), and the configuration file a user would write for them.
struct DemoFleet {
    /// One demo cluster: its scenario, and whether it is monitored as a cluster_viewer user
    /// (nodes, cluster alerts and the stapled view; no OCSP endpoints).
    struct Member {
        var scenario: Scenario
        var viewer = false
        var name: String { "demo-" + (viewer ? "viewer" : scenario.rawValue.replacing("_", with: "-")) }
    }

    static let members: [Member] = [
        .healthy, .disabled, .unsupported, .revoked, .stale, .expiring, .queryFailed, .certsExpiring, .unauthorized, .changing,
    ].map { Member(scenario: $0) } + [Member(scenario: .healthy, viewer: true)]
    /// The clusters with a stapling endpoint; the disabled one staples nothing, and the stale
    /// one's endpoint is down (its proxy does not answer), so probe errors show too.
    static let probed: Set<Scenario> = [.healthy, .revoked, .disabled]

    /// What the API of these clusters reports and their endpoints staple (valid for a week,
    /// so a long demo stays as it started).
    static func statuses(now: Int64) -> [Scenario: CertificateStatus] {
        [
            .healthy: CertificateStatus(certStatus: "GOOD", producedAt: now, thisUpdate: now - 60, nextUpdate: now + 7 * 86_400),
            .revoked: CertificateStatus(certStatus: "REVOKED", producedAt: now, thisUpdate: now - 60, nextUpdate: now + 7 * 86_400,
                                        revocationTime: now - 86_400),
        ]
    }

    let server: SimulatorServer
    let endpoints: [StaplingEndpoint]
    let responder: SimulatedResponder
    let configFile: String

    func stop() async {
        await responder.stop()
        for endpoint in endpoints { endpoint.stop() }
        await server.stop()
    }

    /// Starts the simulated clusters and endpoints and writes their configuration file.
    static func start(logger: Logger) async throws -> DemoFleet {
        let statuses = statuses(now: Int64(Date().timeIntervalSince1970))
        let clusters = members.map { SimulatedCluster(name: $0.name, scenario: $0.scenario, certificate: statuses[$0.scenario]) }
        // The healthy cluster is reached through a node that is not its master: the exporter
        // follows the node's redirect to the master, which proves it is the cluster.
        let node = SimulatedCluster(name: "demo-node", scenario: .healthy)
        let server = try await SimulatorServer.start(clusters + [node], logger: logger)
        node.redirectsTo = server.urls[Member(scenario: .healthy).name]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-ocsp-exporter-demo-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let caFile = directory.appendingPathComponent("ca.pem").path
        let passwordFile = directory.appendingPathComponent("password").path
        let configFile = directory.appendingPathComponent("config.yml").path
        try server.ca.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        try clusters[0].password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var yaml = "poll_interval: 15s\ntimeout: 5s\nclusters:\n"
        var served: [String: [StaplingEndpoint]] = [:]
        for (cluster, member) in zip(clusters, members) where probed.contains(member.scenario) {
            let endpoint = try StaplingEndpoint(issuer: server.ca, status: statuses[member.scenario])
            cluster.proxyCertificatePEM = endpoint.certificatePEM
            served[cluster.name] = [endpoint]
            // One proxy of the healthy cluster still serves the certificate it had before.
            if member.scenario == .healthy { served[cluster.name]?.append(try StaplingEndpoint(issuer: server.ca, status: statuses[member.scenario])) }
        }
        let endpoints = served.values.flatMap { $0 }
        let responder = try await SimulatedResponder.start(answering: endpoints, logger: logger)
        for (cluster, member) in zip(clusters, members) {
            var probe = ""
            if let served = served[cluster.name] {
                let list = served.map { "\"127.0.0.1:\($0.port)\"" }.joined(separator: ", ")
                probe = "    stapling_probe: {endpoints: [\(list)], ca_file: \(caFile)}\n"
                // The responder answers for the healthy and revoked clusters; the disabled
                // one's is down.
                let url = member.scenario == .disabled ? "http://127.0.0.1:\(try closedPort())" : responder.url
                probe += "    responder_probe: {url: \"\(url)\", interval: 15s, timeout: 2s}\n"
            } else if member.scenario == .stale {
                probe = "    stapling_probe: {endpoints: [\"127.0.0.1:\(try closedPort())\"], timeout: 2s}\n"
            }
            // The recommended setup without admin credentials: a cluster_viewer user, the
            // endpoints it may read, and the stapling probe.
            let access = member.viewer
                ? "    username: \(cluster.viewerUsername)\n    endpoints: [nodes, alerts, cluster, health]\n"
                : "    username: \(cluster.username)\n    test_interval: 5m\n"
            yaml += """
                  - name: \(cluster.name)
                    url: \(server.urls[member.scenario == .healthy && !member.viewer ? node.name : cluster.name]!)
                    password_file: \(passwordFile)
                    tls: {ca_file: \(caFile)}
                    labels: {environment: demo}

                """ + access + probe
        }
        try yaml.write(toFile: configFile, atomically: true, encoding: .utf8)
        logger.info("demo: simulated clusters started", metadata: [
            "clusters": "\(clusters.map(\.name).joined(separator: ","))", "config_file": "\(configFile)",
        ])
        return DemoFleet(server: server, endpoints: endpoints, responder: responder, configFile: configFile)
    }

    /// A loopback port nothing listens on: bound once for its number, then closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw SimulatorError("no free loopback port for the demo") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
