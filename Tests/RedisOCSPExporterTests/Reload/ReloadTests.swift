import Foundation
import NIOHTTP1
import OCSPSimulator
import Testing

/// Configuration reloads: clusters added, removed and changed without touching the others;
/// an invalid configuration changes nothing.
@Suite(.serialized)
struct ReloadTests {
    @Test func reloadAddsAndRemovesClustersAndKeepsTheOthersData() async throws {
        let clusters = [SimulatedCluster(name: "stays", scenario: .healthy), SimulatedCluster(name: "goes", scenario: .revoked),
                        SimulatedCluster(name: "comes", scenario: .disabled)]
        try await ExporterHarness.with(clusters, configured: ["stays", "goes"]) { harness in
            try await harness.waitForRounds(2)
            var m = try await harness.metrics()
            let requests = "redis_ocsp_api_request_duration_seconds_count{cluster=\"stays\",endpoint=\"config\"}"
            let before = try #require(m[requests])
            #expect(m["redis_ocsp_cert_status{cluster=\"goes\",status=\"REVOKED\"}"] == 1)
            #expect(m["redis_ocsp_exporter_config_last_reload_successful"] == 1)

            try harness.writeConfig(["stays", "comes"])
            let reload = try await harness.get("/-/reload", method: .POST)
            #expect(reload.status == 200, "\(String(buffer: reload.body))")
            try await harness.waitForRounds(1)
            m = try await harness.metrics()
            // The removed cluster's series are gone at once, the new one is polled, and the
            // unchanged one kept counting from where it was.
            #expect(!m.text.contains("cluster=\"goes\""))
            #expect(m["redis_ocsp_enabled{cluster=\"comes\"}"] == 0)
            #expect(try #require(m[requests]) > before)
            #expect(m["redis_ocsp_exporter_config_last_reload_successful"] == 1)

            // An invalid configuration: refused, logged, the running one stays.
            try "clusters: [{name: broken}]\n".write(toFile: harness.configFile, atomically: true, encoding: .utf8)
            let refused = try await harness.get("/-/reload", method: .POST)
            #expect(refused.status == 500)
            #expect(String(buffer: refused.body).contains("clusters[0] (broken).url: is required"))
            try await harness.waitForRounds(1)
            m = try await harness.metrics()
            #expect(m["redis_ocsp_exporter_config_last_reload_successful"] == 0)
            #expect(m["redis_ocsp_enabled{cluster=\"comes\"}"] == 0)

            // A file that cannot be decoded is refused the same way, naming the file.
            FileManager.default.createFile(atPath: harness.configFile, contents: Data([0x23, 0x20, 0xE9, 0x0A]))
            let undecodable = try await harness.get("/-/reload", method: .POST)
            #expect(undecodable.status == 500)
            #expect(String(buffer: undecodable.body).contains("\(harness.configFile): cannot read the file: is not UTF-8 text"))
            #expect(try await harness.metrics()["redis_ocsp_enabled{cluster=\"comes\"}"] == 0)
            #expect(m["redis_ocsp_cert_status{cluster=\"stays\",status=\"GOOD\"}"] == 1)
        }
    }

    @Test func methodsOtherThanGetAndHeadAreRefused() async throws {
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)]) { harness in
            try await harness.waitForRounds(1)
            for path in ["/metrics", "/", "/api/v1/alerts", "/-/ready", "/-/healthy"] {
                let refused = try await harness.get(path, method: .POST)
                #expect(refused.status == 405, "POST \(path)")
                #expect(refused.headers.contains { $0.0.lowercased() == "allow" && $0.1 == "GET, HEAD" })
                #expect(try await harness.get(path, method: .DELETE).status == 405)
                let head = try await harness.get(path, method: .HEAD)
                #expect(head.status == 200, "HEAD \(path)")
                #expect(head.body.readableBytes == 0)
            }
            #expect(try await harness.get("/-/reload").status == 405)
        }
    }
}
