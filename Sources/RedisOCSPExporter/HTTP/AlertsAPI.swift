import Foundation

/// `/api/v1/alerts` in the shape of Prometheus's own endpoint.
enum AlertsAPI {
    static func render(_ alerts: [Alert]) -> [UInt8] {
        let objects: [[String: Any]] = alerts.map { alert in
            [
                "labels": Dictionary(alert.labels.map { ($0.name, $0.value) }) { _, last in last },
                "annotations": alert.annotations,
                "state": alert.state.rawValue,
                "activeAt": RFC3339.format(unixTime: alert.activeAt),
                "value": Exposition.formatValue(alert.value),
            ]
        }
        let document: [String: Any] = ["status": "success", "data": ["alerts": objects]]
        return Array((try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data())
    }
}
