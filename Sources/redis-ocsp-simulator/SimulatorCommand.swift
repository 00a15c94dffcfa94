import ArgumentParser
import Foundation
import Logging
import OCSPSimulator
import ServiceLifecycle

/// Runs simulated Redis Software clusters for demos and for other people's tests.
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-ocsp-simulator",
        abstract: "Simulated Redis Software REST API (OCSP endpoints) over HTTPS.",
        discussion: "Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))."
    )

    @Option(name: .customLong("cluster"), help: "NAME=SCENARIO[:PORT], repeatable. Port 0 or none picks a free port.")
    var clusters: [String] = ["healthy=healthy"]

    @Option(name: .customLong("fleet"), help: "PREFIX:COUNT: add COUNT healthy clusters named PREFIX-1 ... PREFIX-COUNT on free ports (for scale tests; replaces --cluster).")
    var fleet: String?

    @Option(name: .customLong("listen-host"), help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(name: .customLong("ca-out"), help: "Write the generated CA certificate (PEM) here, for the client's ca_file.")
    var caOut: String?

    @Option(name: .customLong("username"), help: "Admin user the REST API accepts.")
    var username = "ocsp-monitor@example.com"

    @Option(name: .customLong("viewer-username"), help: "cluster_viewer user (same password): 403 on the OCSP endpoints.")
    var viewerUsername = "ocsp-viewer@example.com"

    @Option(name: .customLong("password"), help: "Password the REST API accepts.")
    var password = "simulated"

    @Option(name: .customLong("slow-delay"), help: "Seconds the slow scenario waits before answering.")
    var slowDelay = 15.0

    @Option(name: .customLong("change-period"), help: "Seconds per step of the changing scenario.")
    var changePeriod = 60.0

    @Option(name: .customLong("proxy-certificate"), help: "NAME=PEMFILE, repeatable: the proxy_certificate GET /v1/cluster reports for NAME (default: the simulator's own server certificate).")
    var proxyCertificates: [String] = []

    @Option(name: .customLong("node"), help: "NAME, repeatable: also start NAME-node, a node that is not NAME's master and redirects every request to it with a 307.")
    var nodes: [String] = []

    func run() async throws {
        var simulated: [SimulatedCluster] = []
        var ports: [Int] = []
        var specs = fleet == nil ? clusters : []
        if let fleet {
            let parts = fleet.split(separator: ":")
            guard parts.count == 2, let count = Int(parts[1]), count > 0 else {
                throw ValidationError("--fleet \(fleet): expected PREFIX:COUNT")
            }
            specs += (1...count).map { "\(parts[0])-\($0)=healthy" }
        }
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let target = parts.count == 2 ? parts[1].split(separator: ":").map(String.init) : []
            guard parts.count == 2, let scenario = Scenario(rawValue: target[0]),
                  target.count == 1 || (target.count == 2 && Int(target[1]) != nil)
            else {
                throw ValidationError("--cluster \(spec): expected NAME=SCENARIO[:PORT] with a scenario of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            simulated.append(SimulatedCluster(
                name: parts[0], scenario: scenario, username: username, viewerUsername: viewerUsername, password: password,
                slowDelay: .milliseconds(Int64(slowDelay * 1000)), changePeriod: .milliseconds(Int64(changePeriod * 1000))
            ))
            ports.append(target.count == 2 ? Int(target[1])! : 0)
        }
        for spec in proxyCertificates {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let cluster = simulated.first(where: { $0.name == parts[0] }) else {
                throw ValidationError("--proxy-certificate \(spec): expected NAME=PEMFILE naming a --cluster")
            }
            cluster.proxyCertificatePEM = try String(contentsOfFile: parts[1], encoding: .utf8)
        }
        var redirects: [(node: SimulatedCluster, master: String)] = []
        for name in nodes {
            guard simulated.contains(where: { $0.name == name }) else { throw ValidationError("--node \(name): expected the NAME of a --cluster") }
            let node = SimulatedCluster(name: "\(name)-node", scenario: .healthy, username: username, viewerUsername: viewerUsername, password: password)
            redirects.append((node, name))
            simulated.append(node)
            ports.append(0)
        }
        let server = try await SimulatorServer.start(simulated, host: host, ports: ports)
        for (node, master) in redirects { node.redirectsTo = server.urls[master] }
        if let caOut { try server.ca.caCertificatePEM.write(toFile: caOut, atomically: true, encoding: .utf8) }
        var listing = ""
        for cluster in simulated {
            listing += "\(cluster.name) \(cluster.redirectsTo == nil ? cluster.scenario.rawValue : "redirect") \(server.urls[cluster.name]!)\n"
        }
        FileHandle.standardOutput.write(Data(listing.utf8))
        // Serve until SIGTERM or SIGINT.
        try await ServiceGroup(
            services: [UntilShutdown()], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "redis-ocsp-simulator")
        ).run()
        await server.stop()
    }
}

/// A service that only waits for graceful shutdown, so the signals end the process cleanly.
struct UntilShutdown: Service {
    @Option(name: .customLong("node"), help: "NAME, repeatable: also start NAME-node, a node that is not NAME's master and redirects every request to it with a 307.")
    var nodes: [String] = []

    func run() async throws { try? await gracefulShutdown() }
}

