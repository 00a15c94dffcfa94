import AsyncHTTPClient
import Foundation
import OCSPSimulator
import RedisSoftwareAPI
@testable import RedisOCSPExporter
import Testing

/// A node that is not the master redirects to the master's address (RS40641). The client
/// follows only to a server that proves, over HTTPS, that it is the cluster: credentials never
/// reach any other.
@Suite(.serialized)
struct RedirectTests {
    /// A node (`node`) in front of a master (`master`), both from one CA, and the exporter's
    /// view of the cluster through the node as `https://localhost:<node port>`.
    struct Setup {
        let simulator: SimulatorServer
        let master: SimulatedCluster
        let node: SimulatedCluster
        let caFile: String

        static func start() async throws -> Setup {
            let master = SimulatedCluster(name: "master", scenario: .healthy)
            let node = SimulatedCluster(name: "node", scenario: .healthy)
            let simulator = try await SimulatorServer.start([master, node])
            node.redirectsTo = simulator.urls["master"]!
            let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("redirect-ca-\(UUID().uuidString).pem").path
            try simulator.ca.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
            return Setup(simulator: simulator, master: master, node: node, caFile: caFile)
        }

        var nodeURL: String { simulator.urls["node"]!.replacingOccurrences(of: "127.0.0.1", with: "localhost") }

        func client(url: String? = nil, tls: String? = nil) throws -> ClusterClient {
            let config = try ConfigLoader.load(yaml: """
                clusters: [{name: a, url: "\(url ?? nodeURL)", username: ocsp-monitor@example.com, password: simulated,
                            tls: \(tls ?? "{ca_file: \(caFile)}"), timeout: 20s}]
                """, source: "redirect.yml")
            return ClusterClient(cluster: config.clusters[0], idleTimeout: Scheduler.idleTimeout(keptAlive: true))
        }

        func stop() async { await simulator.stop() }
    }

    @Test func aRedirectToTheMasterIsFollowedWhenItsCertificateIsTheClusters() async throws {
        let setup = try await Setup.start()
        let client = try setup.client()
        let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
        #expect(fetch.result.failure == nil, "\(fetch.result)")
        #expect(fetch.answeredBy == String(setup.simulator.urls["master"]!.dropFirst("https://".count)))
        #expect(setup.node.requests(to: "/v1/ocsp") == 1)
        #expect(setup.master.requests(to: "/v1/ocsp") == 1)
        // The POST keeps its method through a 307, so the test call reaches the master too.
        let test = try await client.fetch(method: "POST", path: "/v1/ocsp/test", as: OCSPStatus.self)
        #expect(test.result.failure == nil, "\(test.result)")
        #expect(setup.master.requests(to: "/v1/ocsp/test") == 1)
        // Each request names the cluster and the port it went to: the configured one, then the master's.
        let port = { (name: String) in setup.simulator.urls[name]!.split(separator: ":").last! }
        #expect(setup.node.hostsSeen == ["localhost:\(port("node"))"])
        #expect(setup.master.hostsSeen == ["localhost:\(port("master"))"])
        client.connections.close()
        await setup.stop()
    }

    /// Each target that cannot prove it is the cluster gets `redirected`, a message naming the
    /// target and what to change, and not one request: the credentials stay with the exporter.
    @Test func aRedirectToAServerThatIsNotProvablyTheClusterIsRefused() async throws {
        let setup = try await Setup.start()
        let stranger = SimulatedCluster(name: "stranger", scenario: .healthy)
        let strangers = try await SimulatorServer.start([stranger])  // its own CA
        let plain = SimulatedCluster(name: "plain", scenario: .healthy)
        let plainServer = try await SimulatorServer.start([plain], plainHTTP: true)
        let cases: [(target: String, tls: String?, server: SimulatedCluster, reason: String)] = [
            (strangers.urls["stranger"]!, nil, stranger, "tls_error"),
            (plainServer.urls["plain"]!, nil, plain, "not HTTPS"),
            (setup.simulator.urls["master"]!, "{insecure_skip_verify: true}", setup.master, "insecure_skip_verify"),
        ]
        for (target, tls, server, reason) in cases {
            setup.node.redirectsTo = target
            let client = try setup.client(tls: tls)
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp/status", as: OCSPStatus.self)
            let failure = try #require(fetch.result.failure, "followed to \(target)")
            #expect(failure.code == CheckFailure.redirected)
            #expect(failure.message.contains(target) && failure.message.contains(reason) && failure.message.contains("handle_redirects"), "\(failure.message)")
            #expect(server.requestCount == 0, "\(target) got the request")
            #expect(fetch.answeredBy == String(setup.nodeURL.dropFirst("https://".count)))
            client.connections.close()
        }
        await plainServer.stop()
        await strangers.stop()
        await setup.stop()
    }

    /// A cluster keeps at most two idle connections: its own address's and one redirect
    /// target's. Through a chain node -> relay -> master, the node's connection and one of the
    /// targets' are kept, and the other target gets a new connection for each request.
    @Test func aClusterKeepsAtMostTwoConnections() async throws {
        let setup = try await Setup.start()
        let relay = SimulatedCluster(name: "relay", scenario: .healthy)
        let relays = try await SimulatorServer.start([relay], ca: setup.simulator.ca)
        relay.redirectsTo = setup.simulator.urls["master"]!
        setup.node.redirectsTo = relays.urls["relay"]!
        let client = try setup.client()
        for _ in 0..<3 {
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(fetch.result.failure == nil, "\(fetch.result)")
        }
        #expect(setup.node.connectionCount == 1)
        #expect(relay.connectionCount + setup.master.connectionCount == 4, "relay \(relay.connectionCount), master \(setup.master.connectionCount)")
        client.connections.close()
        await relays.stop()
        await setup.stop()
    }

    @Test func aRedirectLoopEndsAfterTheLimit() async throws {
        let setup = try await Setup.start()
        setup.node.redirectsTo = setup.nodeURL
        let client = try setup.client()
        let fetch = try await client.fetch(method: "GET", path: "/v1/nodes", as: NodeList.self)
        #expect(fetch.result.failure?.code == CheckFailure.redirected)
        #expect(fetch.result.failure?.message.contains("more than \(ClusterClient.maxRedirects) redirects") == true)
        #expect(setup.node.requests(to: "/v1/nodes") == ClusterClient.maxRedirects + 1)
        client.connections.close()
        await setup.stop()
    }
}
