/// `/api/v1/alerts` in the shape of Prometheus's own endpoint.
enum AlertsAPI {
    private struct Document: Encodable {
        struct Data: Encodable { var alerts: [Entry] }
        struct Entry: Encodable {
            var labels: [String: String]
            var annotations: [String: String]
            var state: String
            var activeAt: String
            var value: String
        }
        var status = "success"
        var data: Data
    }

    static func render(_ alerts: [Alert]) -> [UInt8] {
        JSONOutput.encode(Document(data: .init(alerts: alerts.map { alert in
            Document.Entry(labels: Dictionary(alert.labels.map { ($0.name, $0.value) }) { _, last in last }, annotations: alert.annotations,
                           state: alert.state.rawValue, activeAt: RFC3339.format(unixTime: alert.activeAt),
                           value: Exposition.formatValue(alert.value))
        })))
    }
}
