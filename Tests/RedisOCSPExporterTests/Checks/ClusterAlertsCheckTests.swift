import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

struct ClusterAlertsDecodingTests {
    func decode(_ text: String) throws -> ClusterAlerts {
        try ClusterAlerts.decode(try JSONValue.parse(Array(text.utf8)))
    }

    /// `state` is a boolean in the object table and "off" in the request page's example;
    /// anything else makes that one alert unreadable, not the answer.
    @Test func stateReadsBooleansAndOnOffAndNothingElse() throws {
        let alerts = try decode("""
            {"cluster_ocsp_query_failed": {"state": true, "enabled": false, "change_time": "2026-11-30T08:00:00Z"},
             "cluster_ocsp_status_revoked": {"state": "off", "enabled": true},
             "cluster_certs_about_to_expire": {"state": "on"},
             "cluster_ca_cert_about_to_expire": {"state": 1, "change_time": "Mon, 30 Nov 2026 08:00:00 GMT"},
             "cluster_ram_overcommit": {"state": true}}
            """).alerts
        #expect(alerts["cluster_ocsp_query_failed"] == .init(triggered: true, enabled: false, changeTime: 1_796_025_600))
        #expect(alerts["cluster_ocsp_status_revoked"] == .init(triggered: false, enabled: true, changeTime: nil))
        #expect(alerts["cluster_certs_about_to_expire"]?.triggered == true)
        // Not a boolean and not on/off; an HTTP date is not ISO 8601.
        #expect(alerts["cluster_ca_cert_about_to_expire"] == .init(triggered: nil, enabled: nil, changeTime: nil))
        #expect(alerts["cluster_ram_overcommit"] == nil, "names that do not concern OCSP are not kept")
    }

    @Test func anAnswerThatIsNotAnObjectIsInvalid() {
        #expect(throws: DecodeError.self) { try decode("[]") }
    }
}

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
