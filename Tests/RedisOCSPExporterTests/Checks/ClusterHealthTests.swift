import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// `GET /v4/cluster/health`: every certificate's expiry by type where the version has it; a
/// 404 from an older version is an answer, asked once per configuration.
struct ClusterHealthTests {
    @Test(.tags(.unit)) func certificatesAreReadBoundedAndKeptWhenADateIsBad() throws {
        let certificates = (0..<100).map { ["type": "t\($0)" + String(repeating: "x", count: 200), "expired": $0 == 1, "valid_until": "2027-01-15T08:00:00Z"] as [String: Any] }
            + [["type": "proxy", "expired": false, "valid_until": "2027-01-15T08:00:00.123Z"], ["type": "api", "expired": true, "valid_until": "soon"]]
        let body = try JSONSerialization.data(withJSONObject: ["fqdn": "c", "status": "ok", "certificates": certificates])
        let health = try ClusterHealth.decode(try JSONValue.parse(Array(body)))
        #expect(health.certificates.count == ClusterHealth.maxKept)
        #expect(health.certificates.allSatisfy { $0.type.count <= ClusterHealth.maxTypeLength })
        #expect(throws: DecodeError.self) { try ClusterHealth.decode(try JSONValue.parse(Array(#"{"status": "ok"}"#.utf8))) }
        let few = try ClusterHealth.decode(try JSONValue.parse(Array(try JSONSerialization.data(withJSONObject: ["certificates": Array(certificates.suffix(2))]))))
        #expect(few.certificates == [.init(type: "api", expired: true, validUntil: nil), .init(type: "proxy", expired: false, validUntil: 1_800_000_000)])
    }

    @Test func reportedCertificatesAreExportedAndAnOlderVersionIsAskedOnce() async throws {
        let current = SimulatedCluster(name: "current", scenario: .certsExpiring)
        let older = SimulatedCluster(name: "older", scenario: .healthy, hasHealthReport: false)
        try await ExporterHarness.with([current, older], pollInterval: "200ms") { harness in
            // Asked every tenth round (2 s here); the version without it, once. Past the moment
            // it would have been asked again, plus a few rounds, it still was asked once.
            try await waitUntil("a second health report") { current.requests(to: "/v4/cluster/health") >= 2 }
            let rounds = older.requests(to: "/v1/ocsp")
            try await waitUntil("three more rounds of the older cluster") { older.requests(to: "/v1/ocsp") >= rounds + 3 }
            try await harness.waitForRounds(1)
            let m = try await harness.metrics()
            let proxy = try #require(m[#"redis_ocsp_cluster_cert_not_after_timestamp_seconds{cluster="current",type="proxy"}"#])
            #expect(abs(proxy - (Date().timeIntervalSince1970 + 10 * 86_400)) < 3600)
            #expect(m[#"redis_ocsp_cluster_cert_expired{cluster="current",type="api"}"#] == 0)
            #expect(m[#"redis_ocsp_api_up{cluster="older",endpoint="health"}"#] == 1, "a 404 is the version's answer, not a failure")
            #expect(m.series("redis_ocsp_api_error", [#"cluster="older""#]).isEmpty)
            #expect(m.series("redis_ocsp_cluster_cert_not_after_timestamp_seconds", [#"cluster="older""#]).isEmpty)
            #expect(older.requests(to: "/v4/cluster/health") == 1)
        }
    }
}
