import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

@Suite(.serialized)
struct ClusterAlertsCheckTests {
    /// Polled by default: its samples and request series; absent where `endpoints:` leaves it out.
    @Test func theClustersOwnAlertsAreExportedUnlessLeftOut() async throws {
        let clusters = [SimulatedCluster(name: "listed", scenario: .revoked), SimulatedCluster(name: "default", scenario: .revoked)]
        try await ExporterHarness.with(clusters, extraClusterYAML: ["default": "endpoints: [config, status, nodes]"]) { harness in
            try await harness.waitForRounds(1)
            let text = try await harness.metricsText()
            #expect(text.contains(#"redis_ocsp_cluster_alert{cluster="listed",alert="cluster_ocsp_status_revoked"} 1"#))
            #expect(text.contains(#"redis_ocsp_cluster_alert{cluster="listed",alert="cluster_ocsp_query_failed"} 0"#))
            #expect(text.contains(#"redis_ocsp_cluster_alert_enabled{cluster="listed",alert="cluster_ocsp_status_revoked"} 0"#))
            #expect(text.contains(#"redis_ocsp_cluster_alert_change_timestamp_seconds{cluster="listed",alert="cluster_ocsp_query_failed"} "#))
            #expect(text.contains(#"redis_ocsp_api_up{cluster="listed",endpoint="alerts"} 1"#))
            #expect(!text.contains(#"cluster="default",endpoint="alerts""#))
            #expect(!text.contains(#"redis_ocsp_cluster_alert{cluster="default""#))
        }
    }

    /// Without ignore_settings=true the cluster reports a disabled alert as not triggered,
    /// which is why the check asks with it.
    @Test func theSimulatorHonoursIgnoreSettings() async throws {
        let cluster = SimulatedCluster(name: "r", scenario: .revoked)
        let auth = "Basic " + Data("\(cluster.username):\(cluster.password)".utf8).base64EncodedString()
        func state(_ query: String) async throws -> Bool? {
            let answer = await cluster.handle(SimRequest(method: "GET", path: "/v1/cluster/alerts", query: query, authorization: auth))
            return try ClusterAlerts.decode(try JSONValue.parse(answer.body)).alerts["cluster_ocsp_status_revoked"]?.triggered
        }
        #expect(try await state("ignore_settings=true") == true)
        #expect(try await state("") == false)
    }
}
