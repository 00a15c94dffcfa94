import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// Spreading a fleet: /probe for Prometheus's multi-target pattern, and shards of replicas.
@Suite(.serialized)
struct ScaleOutTests {
    @Test func probeAnswersForOneClusterFromAFreshPoll() async throws {
        let clusters = [
            SimulatedCluster(name: "a", scenario: .healthy), SimulatedCluster(name: "b", scenario: .revoked),
            SimulatedCluster(name: "slow", scenario: .slow, slowDelay: .seconds(5)),
        ]
        try await ExporterHarness.with(clusters, pollInterval: "1h") { harness in
            try await harness.waitForRounds(1, only: ["a", "b"])
            let before = clusters[0].requestCount
            let (status, headers, body) = try await harness.get("/probe?target=a")
            #expect(status == 200)
            #expect(headers.contains { $0.0.lowercased() == "content-type" && $0.1.hasPrefix("text/plain; version=0.0.4") })
            #expect(clusters[0].requestCount == before + RESTRound.selectable.count, "a probe polls the cluster's endpoints anew")
            let text = String(buffer: body)
            let samples = Samples(text)
            #expect(samples["redis_ocsp_cert_status{cluster=\"a\",status=\"GOOD\"}"] == 1)
            #expect(samples["redis_ocsp_api_up{cluster=\"a\",endpoint=\"status\"}"] == 1)
            #expect(!text.contains("cluster=\"b\""))
            #expect(!text.contains("process_"), "a probe answers for the target only")
            let (checkStatus, checkOutput) = try await Promtool.checkMetrics(text)
            #expect(checkStatus == 0, "\(checkOutput)")

            let (gzipStatus, gzipHeaders, _) = try await harness.get("/probe?target=b", headers: [("Accept-Encoding", "gzip")])
            #expect(gzipStatus == 200)
            #expect(gzipHeaders.contains { $0.0.lowercased() == "content-encoding" && $0.1 == "gzip" })

            let (unknown, _, unknownBody) = try await harness.get("/probe?target=nope")
            #expect(unknown == 400)
            #expect(String(buffer: unknownBody).contains("Unknown target \"nope\""))
            let (missing, _, _) = try await harness.get("/probe")
            #expect(missing == 400)

            // Prometheus's scrape timeout bounds the probe: the cluster's own timeout (30 s) would
            // let the simulator's answer (after 5 s) arrive, so a timeout can only be the scrape's.
            let (slowStatus, _, slowBody) = try await harness.get("/probe?target=slow", headers: [("X-Prometheus-Scrape-Timeout-Seconds", "1.5")])
            #expect(slowStatus == 200)
            #expect(Samples(String(buffer: slowBody))["redis_ocsp_api_error{cluster=\"slow\",endpoint=\"config\",error_code=\"timeout\"}"] == 1)
        }
    }

    /// Probes of one target that arrive while one runs share its round: eight at once cost the
    /// cluster one round (four requests), not eight.
    @Test func concurrentProbesOfOneTargetShareARound() async throws {
        // Each answer takes 1 s, so a round takes 4 s: the eight probes all arrive within it.
        let cluster = SimulatedCluster(name: "a", scenario: .slow, slowDelay: .seconds(1))
        try await ExporterHarness.with([cluster], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            let before = cluster.requestCount
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 { group.addTask { try await harness.get("/probe?target=a", headers: [("X-Prometheus-Scrape-Timeout-Seconds", "60")]).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            let requests = cluster.requestCount - before
            let round = RESTRound.selectable.count
            #expect(requests % round == 0 && requests < 8 * round, "\(requests) requests for 8 probes")
        }
    }

    @Test func twoShardsCoverTheFleetExactlyOnce() async throws {
        let names = (1...12).map { "cluster-\($0)" }
        var seen: [Set<String>] = []
        for index in 0..<2 {
            let clusters = names.map { SimulatedCluster(name: $0, scenario: .healthy) }
            try await ExporterHarness.with(clusters, pollInterval: "1h", extraTopYAML: "shard: \(index)/2\n") { harness in
                try await harness.waitForRounds(1)
                let text = try await harness.metricsText()
                seen.append(Set(names.filter { text.contains("redis_ocsp_api_up{cluster=\"\($0)\",endpoint=\"config\"}") }))
                #expect(harness.app.store.read().entries.count == seen[index].count, "the store holds the shard's clusters only")
            }
        }
        #expect(!seen[0].isEmpty && !seen[1].isEmpty, "\(seen)")
        #expect(seen[0].isDisjoint(with: seen[1]), "\(seen)")
        #expect(seen[0].union(seen[1]) == Set(names))
        // The same split as the hash says, so any replica can tell who owns a cluster.
        #expect(seen[0] == Set(names.filter { Shard("0/2")!.owns($0) }))
    }

    @Test(arguments: ["2/2", "-1/2", "0/0", "1", "a/b", "0/2/3"])
    func invalidShardsAreRefused(_ text: String) {
        #expect(Shard(text) == nil)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(yaml: "shard: \"\(text)\"\nclusters: [{name: a, url: https://x}]", source: "t") }
    }
}
