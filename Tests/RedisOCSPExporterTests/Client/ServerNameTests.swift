import Foundation
import OCSPSimulator
import RedisSoftwareAPI
@testable import RedisOCSPExporter
import Testing

/// `tls.server_name` is the name a cluster's certificate must carry when its URL names an
/// address. Each cluster connects to its own URL's address whatever the names of the others.
@Suite
struct ServerNameTests {
    /// Two clusters at two addresses with one certificate name, and a third whose URL is that
    /// name: each cluster's requests reach its own server, verified for the name.
    @Test func eachClusterReachesItsOwnAddressWhateverTheOthersServerNames() async throws {
        let (a, b, c) = (SimulatedCluster(name: "a", scenario: .healthy), SimulatedCluster(name: "b", scenario: .healthy),
                         SimulatedCluster(name: "c", scenario: .healthy))
        let first = try await SimulatorServer.start([a, c])
        let second = try await SimulatorServer.start([b], host: "127.0.0.2", ca: first.ca)
        let files = try SimulatorFiles(first, prefix: "server-name")
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let ca = files.ca
        let config = try ConfigLoader.load(yaml: """
            clusters:
              - {name: a, url: "\(first.urls["a"]!)", username: ocsp-monitor@example.com, password: simulated, tls: {ca_file: \(ca), server_name: localhost}}
              - {name: b, url: "\(second.urls["b"]!)", username: ocsp-monitor@example.com, password: simulated, tls: {ca_file: \(ca), server_name: localhost}}
              - {name: c, url: "\(first.urls["c"]!.replacingOccurrences(of: "127.0.0.1", with: "localhost"))", username: ocsp-monitor@example.com, password: simulated, tls: {ca_file: \(ca)}}
            """, source: "server-name.yml")
        for cluster in config.clusters {
            let client = ClusterClient(cluster: cluster, idleTimeout: Scheduler.idleTimeout(keptAlive: false))
            let fetch = try await client.fetch(method: "GET", path: "/v1/ocsp", as: OCSPConfig.self)
            #expect(fetch.result.failure == nil, "\(cluster.name): \(fetch.result)")
            client.connections.close()
        }
        #expect([a, b, c].map { $0.requests(to: "/v1/ocsp") } == [1, 1, 1])
        await second.stop()
        await first.stop()
    }
}
