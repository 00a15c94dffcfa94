import RedisSoftwareAPI

/// `GET /v1/cluster/alerts?ignore_settings=true`: what the cluster itself reports about its
/// OCSP queries and certificates. Every role may read it (`view_cluster_alerts`), so it works
/// without admin credentials. `ignore_settings=true` returns the real state also where the
/// cluster's own alert is disabled, as these are by default.
struct ClusterAlertsCheck: RESTCheck {
    let id = "alerts"
    static var state: WritableKeyPath<CheckStates, RESTState<ClusterAlerts>?> { \.alerts }
    let path = "/v1/cluster/alerts?ignore_settings=true"
    let permission = "view_cluster_alerts"
    let isOCSPEndpoint = false
    let families: [ClusterFamily] = [.clusterAlert, .clusterAlertEnabled, .clusterAlertChangeTime]

    func render(answer: ClusterAlerts, into samples: inout ClusterSamples) {
        let alerts = answer.alerts.sorted { $0.key < $1.key }
        func each(_ family: ClusterFamily, _ value: (ClusterAlerts.Alert) -> Double?) {
            samples.write(family) { w in
                for (name, alert) in alerts { if let v = value(alert) { w.sample(family.name, [("alert", name)], v) } }
            }
        }
        each(.clusterAlert) { $0.triggered.map { $0 ? 1 : 0 } }
        each(.clusterAlertEnabled) { $0.enabled.map { $0 ? 1 : 0 } }
        each(.clusterAlertChangeTime) { $0.changeTime.map(Double.init) }
    }
}

extension ClusterSnapshot {
    /// The latest answer of `GET /v1/cluster/alerts`; nil where it failed or is not polled.
    var clusterAlerts: ClusterAlerts? { checks.alerts?.value }

    /// Whether the cluster itself reports `alert` as triggered.
    func clusterReports(_ alert: String) -> Bool { clusterAlerts?.alerts[alert]?.triggered == true }
}

extension ClusterFamily {
    static let clusterAlert = ClusterFamily("redis_ocsp_cluster_alert", .gauge, "1 while the cluster itself reports the alert as triggered, else 0 (GET /v1/cluster/alerts).")
    static let clusterAlertEnabled = ClusterFamily("redis_ocsp_cluster_alert_enabled", .gauge, "1 if the alert is enabled in the cluster's own alert settings, else 0.")
    static let clusterAlertChangeTime = ClusterFamily("redis_ocsp_cluster_alert_change_timestamp_seconds", .gauge, "When the cluster alert last changed state, as Unix time.")
}
