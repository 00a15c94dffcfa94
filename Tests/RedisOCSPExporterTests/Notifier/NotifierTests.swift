import Foundation
import Logging
@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct NotifierTests {
    func notifier(capacity: Int = 3, maxBytes: Int? = nil) throws -> AlertmanagerNotifier {
        let config = try ConfigLoader.load(yaml: """
            clusters:
              - {name: a, url: "https://x"}
            alertmanager:
              urls: ["http://am.example:9093"]
              resend_interval: 1m
              external_labels: {team: storage, cluster_set: x}
              queue_capacity: \(capacity)
            """, source: "t")
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        var alertmanager = try #require(config.alertmanager)
        if let maxBytes { alertmanager.queueMaxBytes = maxBytes }
        return AlertmanagerNotifier(config: alertmanager, evaluationInterval: .seconds(15),
                                    generatorURL: "http://exporter:10044/", logger: logger)
    }

    func alert(_ cluster: String, state: Alert.State = .firing, resolvedAt: Double? = nil) -> Alert {
        Alert(rule: .certRevoked, cluster: cluster,
              labels: [("alertname", "RedisOCSPCertRevoked"), ("cluster", cluster), ("cluster_set", "own"), ("severity", "critical")],
              annotations: ["summary": "s"], state: state, activeAt: 1_800_000_000, resolvedAt: resolvedAt, value: 1)
    }

    @Test func theQueueIsBoundedAndDropsTheOldest() throws {
        let n = try notifier(capacity: 3)
        n.enqueue([alert("1"), alert("2")])
        n.enqueue([alert("3"), alert("4"), alert("5")])
        let metrics = n.renderMetrics()
        #expect(metrics.contains("redis_ocsp_notifications_dropped_total 2\n"))
        #expect(metrics.contains("redis_ocsp_notifications_queue_length 3\n"))
        #expect(metrics.contains("redis_ocsp_notifications_failed_total{alertmanager=\"http://am.example:9093\"} 0\n"))
        #expect(try ParsedExposition(metrics).types["redis_ocsp_notifications_total"] == "counter")
    }

    /// Alerts a cluster's data made large (say, an annotation listing nodes) are bounded in
    /// bytes as well as in number, while Alertmanager is down.
    @Test func theQueueIsBoundedInBytes() throws {
        let n = try notifier(capacity: 1000, maxBytes: 200_000)
        var big = alert("big")
        big.annotations["description"] = String(repeating: "node ", count: 10_000)
        for _ in 0..<10 { n.enqueue([big]) }
        n.enqueue([alert("small")])
        let page = try ParsedExposition(n.renderMetrics())
        let bytes = try #require(page.value("redis_ocsp_notifications_queue_bytes"))
        #expect(bytes <= 200_000)
        #expect(bytes > 150_000)
        #expect(page.value("redis_ocsp_notifications_queue_length") == 4)
        #expect(page.value("redis_ocsp_notifications_dropped_total") == 7)
        #expect(page.value("redis_ocsp_notifications_queue_max_bytes") == 200_000)
    }

    @Test func payloadFollowsTheAlertmanagerV2API() throws {
        let n = try notifier()
        let now = 1_800_000_100.0
        let body = n.payload([alert("a"), alert("b", state: .resolved, resolvedAt: now - 5)], now: now)
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
        #expect(objects.count == 2)
        let firing = objects[0]
        // External labels are added; they never override the alert's own.
        #expect(firing["labels"] as? [String: String] == ["alertname": "RedisOCSPCertRevoked", "cluster": "a", "cluster_set": "own", "severity": "critical", "team": "storage"])
        #expect(firing["annotations"] as? [String: String] == ["summary": "s"])
        #expect(firing["startsAt"] as? String == "2027-01-15T08:00:00.000Z")
        // Firing: valid for four resend intervals; resolved: ends at the resolve time.
        #expect(firing["endsAt"] as? String == RFC3339.format(unixTime: now + 240))
        #expect(objects[1]["endsAt"] as? String == RFC3339.format(unixTime: now - 5))
        #expect(firing["generatorURL"] as? String == "http://exporter:10044/")
    }
}
