import Foundation
import OCSPSimulator
import Testing

/// The notifier against a real Alertmanager: alerts arrive with their labels, resolve, and
/// an Alertmanager that goes away costs nothing but counted failures.
@Suite(.serialized)
struct AlertmanagerIntegrationTests {
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("timed out waiting for \(what)")
    }

    @Test func revokedAlertReachesAlertmanagerAndResolves() async throws {
        let alertmanager = try await AlertmanagerProcess()
        defer { alertmanager.stop() }
        let flip = SimulatedCluster(name: "flip", scenario: .healthy)
        let steady = SimulatedCluster(name: "steady", scenario: .healthy)
        let top = """
            evaluation_interval: 200ms
            alertmanager:
              urls: ["\(alertmanager.url)"]
              timeout: 2s
              resend_interval: 1s
              external_labels: {team: storage}

            """
        try await ExporterHarness.with([flip, steady], extraClusterYAML: ["flip": "labels: {region: eu}"], extraTopYAML: top) { harness in
            try await harness.waitForRounds(1)
            #expect(try await alertmanager.alerts().isEmpty)

            flip.scenario = .revoked
            var revoked: [String: Any] = [:]
            try await waitFor("RedisOCSPCertRevoked in Alertmanager") {
                revoked = try await alertmanager.alerts().first { ($0["labels"] as? [String: String])?["alertname"] == "RedisOCSPCertRevoked" } ?? [:]
                return !revoked.isEmpty
            }
            #expect(revoked["labels"] as? [String: String] == [
                "alertname": "RedisOCSPCertRevoked", "cluster": "flip", "severity": "critical", "region": "eu", "team": "storage",
            ])
            #expect((revoked["annotations"] as? [String: String])?["summary"] == "The proxy certificate of cluster flip is REVOKED")
            #expect((revoked["generatorURL"] as? String)?.hasPrefix("http://127.0.0.1:\(harness.port)/") == true)
            // And the one number: clients refuse the revoked certificate now.
            try await waitFor("RedisOCSPClientsFailSoon beside it") {
                Set(try await alertmanager.alerts().compactMap { ($0["labels"] as? [String: String])?["alertname"] })
                    == ["RedisOCSPCertRevoked", "RedisOCSPClientsFailSoon"]
            }

            flip.scenario = .healthy
            try await waitFor("the alert to resolve in Alertmanager") { try await alertmanager.alerts().isEmpty }

            // Alertmanager goes away: the exporter keeps serving and counts the failures.
            alertmanager.stop()
            flip.scenario = .revoked
            let failed = "redis_ocsp_notifications_failed_total{alertmanager=\"\(alertmanager.url)\"}"
            let firing = "redis_ocsp_alerts{cluster=\"flip\",region=\"eu\",alertname=\"RedisOCSPCertRevoked\",alertstate=\"firing\",severity=\"critical\"}"
            try await waitFor("the new alert to fire and its notification to fail") {
                let metrics = try await harness.metrics()
                return metrics[firing] == 1 && (metrics[failed] ?? 0) > 0
            }
            let metrics = try await harness.metrics()
            #expect(metrics["redis_ocsp_notifications_total{alertmanager=\"\(alertmanager.url)\"}"] ?? 0 >= 2)
            #expect(metrics["redis_ocsp_cert_status{cluster=\"steady\",status=\"GOOD\"}"] == 1)
            #expect(try await harness.get("/-/ready").status == 200)
        }
    }
}
