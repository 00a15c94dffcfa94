import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// The exporter against simulated clusters in every scenario, over real HTTPS: each shows its
/// documented metric state and error_code.
@Suite(.serialized)
struct ScenarioIntegrationTests {
    static let slowDelay = Duration.seconds(5)

    @Test func everyScenarioShowsItsDocumentedState() async throws {
        let clusters = Scenario.allCases.map {
            SimulatedCluster(name: $0.rawValue, scenario: $0, slowDelay: Self.slowDelay, changePeriod: .seconds(3600))
        }
        try await ExporterHarness.with(
            clusters,
            extraClusterYAML: Dictionary(uniqueKeysWithValues: ["healthy", "task_queued", "no_responder_url", "disabled"].map { ($0, "test_interval: 1h") })
                .merging(ExporterHarness.slowClusterYAML) { $1 }
        ) { harness in
            try await harness.waitForRounds(1)
            let m = try await harness.metrics()
            func value(_ metric: String, _ cluster: String, _ extra: String = "") -> Double? {
                m["\(metric){cluster=\"\(cluster)\"\(extra)}"]
            }
            func apiError(_ cluster: String, _ endpoint: String) -> String? {
                m.series("redis_ocsp_api_error", ["cluster=\"\(cluster)\"", "endpoint=\"\(endpoint)\""]).keys.first.flatMap { key in
                    key.range(of: "error_code=\"").map { String(key[$0.upperBound...].prefix { $0 != "\"" }) }
                }
            }
            func certStatus(_ cluster: String) -> String? {
                ["GOOD", "REVOKED", "UNKNOWN"].first { value("redis_ocsp_cert_status", cluster, ",status=\"\($0)\"") == 1 }
            }

            // healthy: everything up, every value present.
            #expect(value("redis_ocsp_enabled", "healthy") == 1)
            #expect(value("redis_ocsp_responder_url_configured", "healthy") == 1)
            #expect(value("redis_ocsp_config_info", "healthy", ",responder_url=\"\(SimulatedCluster.responderURL)\"") == 1)
            #expect(value("redis_ocsp_query_frequency_seconds", "healthy") == 3600)
            #expect(value("redis_ocsp_response_timeout_seconds", "healthy") == 1)
            #expect(value("redis_ocsp_recovery_frequency_seconds", "healthy") == 60)
            #expect(value("redis_ocsp_recovery_max_tries", "healthy") == 5)
            #expect(certStatus("healthy") == "GOOD")
            #expect(value("redis_ocsp_supported", "healthy") == 1)
            #expect(value("redis_ocsp_nodes", "healthy") == 3)
            let now = Date().timeIntervalSince1970
            #expect(try #require(value("redis_ocsp_next_update_timestamp_seconds", "healthy")) > now)
            #expect(try #require(value("redis_ocsp_produced_at_timestamp_seconds", "healthy")) <= now)
            #expect(value("redis_ocsp_this_update_timestamp_seconds", "healthy") != nil)
            #expect(value("redis_ocsp_revocation_timestamp_seconds", "healthy") == nil)
            for endpoint in ["config", "status", "nodes", "test"] {
                #expect(value("redis_ocsp_api_up", "healthy", ",endpoint=\"\(endpoint)\"") == 1, "endpoint \(endpoint)")
                #expect(value("redis_ocsp_last_success_timestamp_seconds", "healthy", ",endpoint=\"\(endpoint)\"") != nil)
                #expect(apiError("healthy", endpoint) == nil)
            }
            // test is polled only where asked.
            #expect(value("redis_ocsp_api_up", "revoked", ",endpoint=\"test\"") == nil)

            #expect(value("redis_ocsp_enabled", "disabled") == 0)
            #expect(value("redis_ocsp_api_up", "disabled", ",endpoint=\"test\"") == 1)

            // unsupported: 406 on OCSP endpoints, nodes still answer with the old version visible.
            #expect(value("redis_ocsp_supported", "unsupported") == 0)
            #expect(apiError("unsupported", "config") == "ocsp_unsupported_by_capability")
            #expect(apiError("unsupported", "status") == "ocsp_unsupported_by_capability")
            #expect(value("redis_ocsp_enabled", "unsupported") == nil)
            #expect(certStatus("unsupported") == nil)
            #expect(m.series("redis_ocsp_node_info", ["cluster=\"unsupported\"", "software_version=\"\(SimulatedCluster.oldVersion)\""]).count == 1)

            #expect(certStatus("revoked") == "REVOKED")
            #expect(value("redis_ocsp_revocation_timestamp_seconds", "revoked") != nil)
            #expect(certStatus("unknown") == "UNKNOWN")
            #expect(try #require(value("redis_ocsp_next_update_timestamp_seconds", "stale")) < now)
            let expiring = try #require(value("redis_ocsp_next_update_timestamp_seconds", "expiring"))
            #expect(expiring > now && expiring < now + 3600)

            #expect(value("redis_ocsp_enabled", "no_responder_url") == 1)
            #expect(value("redis_ocsp_responder_url_configured", "no_responder_url") == 0)
            #expect(value("redis_ocsp_config_info", "no_responder_url", ",responder_url=\"\"") == 1)
            #expect(apiError("no_responder_url", "status") == "no_responder_url")
            #expect(apiError("no_responder_url", "test") == "no_responder_url")
            #expect(apiError("invalid_ocsp_response", "status") == "invalid_ocsp_response")
            #expect(apiError("task_queued", "test") == "task_queued_for_too_long")
            #expect(certStatus("task_queued") == "GOOD")

            for endpoint in ["config", "status", "nodes"] {
                #expect(apiError("unauthorized", endpoint) == "http_401")
                #expect(apiError("server_error", endpoint) == "http_500")
                #expect(apiError("slow", endpoint) == "timeout")
                #expect(value("redis_ocsp_api_up", "slow", ",endpoint=\"\(endpoint)\"") == 0)
            }
            #expect(value("redis_ocsp_supported", "unauthorized") == nil)
            #expect(apiError("forbidden", "config") == "http_403")
            #expect(apiError("forbidden", "status") == "http_403")
            #expect(apiError("forbidden", "nodes") == nil)
            #expect(value("redis_ocsp_nodes", "forbidden") == 3)

            #expect(apiError("malformed_json", "status") == "invalid_response")
            #expect(certStatus("malformed_json") == nil)
            #expect(apiError("wrong_types", "config") == "invalid_response")
            #expect(value("redis_ocsp_query_frequency_seconds", "wrong_types") == nil)
            #expect(apiError("wrong_types", "status") == nil)
            #expect(apiError("huge", "nodes") == "response_too_large")
            #expect(value("redis_ocsp_nodes", "huge") == nil)

            // bad_dates: unparseable dates leave their series out, never 0; the rest stays.
            #expect(apiError("bad_dates", "status") == nil)
            #expect(certStatus("bad_dates") == "GOOD")
            #expect(value("redis_ocsp_produced_at_timestamp_seconds", "bad_dates") == nil)
            #expect(value("redis_ocsp_next_update_timestamp_seconds", "bad_dates") == nil)
            #expect(value("redis_ocsp_this_update_timestamp_seconds", "bad_dates") != nil)

            // Counters and histograms count each request.
            #expect(value("redis_ocsp_api_errors_total", "server_error", ",endpoint=\"config\",error_code=\"http_500\"") ?? 0 >= 1)
            #expect(value("redis_ocsp_api_request_duration_seconds_count", "healthy", ",endpoint=\"config\"") ?? 0 >= 1)
            #expect(value("redis_ocsp_api_request_duration_seconds_bucket", "slow", ",endpoint=\"config\",le=\"0.5\"") == 0)
        }
    }

    @Test func aFailedEndpointRemovesItsValuesAtOnceAndTheyComeBack() async throws {
        let cluster = SimulatedCluster(name: "flip", scenario: .revoked)
        let other = SimulatedCluster(name: "steady", scenario: .healthy)
        try await ExporterHarness.with([cluster, other]) { harness in
            try await harness.waitForRounds(1)
            var m = try await harness.metrics()
            #expect(m["redis_ocsp_cert_status{cluster=\"flip\",status=\"REVOKED\"}"] == 1)
            #expect(m["redis_ocsp_revocation_timestamp_seconds{cluster=\"flip\"}"] != nil)

            cluster.scenario = .serverError
            // A round already in flight may still see the old scenario; the next one cannot.
            try await harness.waitForRounds(2)
            m = try await harness.metrics()
            #expect(m.series("redis_ocsp_cert_status", ["cluster=\"flip\""]).isEmpty)
            #expect(m["redis_ocsp_revocation_timestamp_seconds{cluster=\"flip\"}"] == nil)
            #expect(m["redis_ocsp_enabled{cluster=\"flip\"}"] == nil)
            #expect(m["redis_ocsp_nodes{cluster=\"flip\"}"] == nil)
            #expect(m["redis_ocsp_api_up{cluster=\"flip\",endpoint=\"status\"}"] == 0)
            #expect(m["redis_ocsp_api_error{cluster=\"flip\",endpoint=\"status\",error_code=\"http_500\"}"] == 1)
            // The last success is kept: it says when the data was last good.
            #expect(m["redis_ocsp_last_success_timestamp_seconds{cluster=\"flip\",endpoint=\"status\"}"] != nil)
            // The other cluster is untouched.
            #expect(m["redis_ocsp_cert_status{cluster=\"steady\",status=\"GOOD\"}"] == 1)

            cluster.scenario = .healthy
            try await harness.waitForRounds(2)
            // The endpoints asked rarely may have failed meanwhile; they come back on their own lane.
            for endpoint in ["health", "cluster"] { try await harness.waitForRounds(2, only: ["flip"], endpoint: endpoint) }
            m = try await harness.metrics()
            #expect(m["redis_ocsp_cert_status{cluster=\"flip\",status=\"GOOD\"}"] == 1)
            #expect(m.series("redis_ocsp_api_error", ["cluster=\"flip\""]).isEmpty)
            #expect(m["redis_ocsp_api_errors_total{cluster=\"flip\",endpoint=\"status\",error_code=\"http_500\"}"] ?? 0 >= 1)
        }
    }

    @Test func changingScenarioMovesThroughItsSteps() async throws {
        let cluster = SimulatedCluster(name: "changing", scenario: .changing, changePeriod: .seconds(1))
        try await ExporterHarness.with([cluster], pollInterval: "200ms") { harness in
            var seen: Set<String> = []
            let deadline = ContinuousClock.now + .seconds(15)
            while seen.count < 3, ContinuousClock.now < deadline {
                try await harness.waitForRounds(1)
                let m = try await harness.metrics()
                if m["redis_ocsp_cert_status{cluster=\"changing\",status=\"REVOKED\"}"] == 1 { seen.insert("revoked") }
                if m["redis_ocsp_enabled{cluster=\"changing\"}"] == 0 { seen.insert("disabled") }
                if let next = m["redis_ocsp_next_update_timestamp_seconds{cluster=\"changing\"}"], next < Date().timeIntervalSince1970 {
                    seen.insert("stale")
                }
            }
            #expect(seen == ["revoked", "disabled", "stale"])
        }
    }
}
