import FoundationEssentials

/// GET /v1/cluster/alerts: the cluster alerts that concern OCSP and certificates; other names are not kept.
public struct ClusterAlerts: APIObject, Equatable {
    public static let names: Set<String> = [
        "cluster_ocsp_query_failed", "cluster_ocsp_status_revoked", "cluster_certs_about_to_expire", "cluster_ca_cert_about_to_expire",
    ]

    public struct Alert: Sendable, Equatable {
        /// nil when `state` is neither a boolean nor "on"/"off": that alert alone is unreadable.
        public var triggered: Bool?
        public var enabled: Bool?
        /// `change_time` (ISO 8601) as Unix time.
        public var changeTime: Int64?

        public init(triggered: Bool?, enabled: Bool?, changeTime: Int64?) {
            self.triggered = triggered
            self.enabled = enabled
            self.changeTime = changeTime
        }
    }

    public var alerts: [String: Alert]

    public init(alerts: [String: Alert]) { self.alerts = alerts }

    public static func decode(_ json: JSONValue) throws(DecodeError) -> ClusterAlerts {
        guard case .object(let all) = json else { throw DecodeError("cluster alerts: expected a JSON object") }
        var alerts: [String: Alert] = [:]
        for (name, value) in all where names.contains(name) {
            guard case .object(let fields) = value else { continue }
            // The docs give `state` as a boolean and, in an example, as "off".
            let triggered: Bool? = switch fields["state"] {
            case .bool(let b)?: b
            case .string("on")?: true
            case .string("off")?: false
            default: nil
            }
            let enabled: Bool? = if case .bool(let b)? = fields["enabled"] { b } else { nil }
            var changeTime: Int64?
            if case .string(let text)? = fields["change_time"] { changeTime = RFC3339Time.parse(text) }
            alerts[name] = Alert(triggered: triggered, enabled: enabled, changeTime: changeTime)
        }
        return ClusterAlerts(alerts: alerts)
    }
}
