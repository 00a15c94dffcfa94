import FoundationEssentials

/// What `GET /v4/cluster/health` (Redis Software 8.0.16 and later; the OpenAPI file's
/// `ClusterHealthReport`) says of the cluster's certificates. Nothing else of it is read.
public struct ClusterHealth: Sendable, Equatable {
    public struct Certificate: Sendable, Equatable {
        /// The certificate's `type` (proxy, api, cm, syncer, metrics_exporter, ...).
        public var type: String
        public var expired: Bool
        /// `valid_until` as Unix time; nil where it is not an RFC 3339 date-time.
        public var validUntil: Int64?

        public init(type: String, expired: Bool, validUntil: Int64?) {
            self.type = type
            self.expired = expired
            self.validUntil = validUntil
        }
    }

    /// At most `maxKept`, by type, each type at most `maxTypeLength` characters: what a
    /// cluster sends here becomes label values.
    public var certificates: [Certificate]

    public static let maxKept = 32
    public static let maxTypeLength = 64

    public init(certificates: [Certificate]) {
        self.certificates = certificates
    }

    public static func decode(_ json: JSONValue) throws(DecodeError) -> ClusterHealth {
        let report = try JSONObject(json, context: "cluster health")
        guard case .array(let items)? = report.fields["certificates"] else {
            throw DecodeError("cluster health.certificates: required list is missing")
        }
        var byType: [String: Certificate] = [:]
        for (index, item) in items.enumerated() {
            let object = try JSONObject(item, context: "cluster health.certificates[\(index)]")
            let type = String(try object.required("type", object.string).prefix(maxTypeLength))
            let validUntil = try object.string("valid_until").flatMap(RFC3339Time.parse)
            if byType[type] == nil, byType.count < maxKept {
                byType[type] = Certificate(type: type, expired: try object.required("expired", object.bool), validUntil: validUntil)
            }
        }
        return ClusterHealth(certificates: byType.values.sorted { $0.type < $1.type })
    }
}

/// RFC 3339 date-times as the REST API writes them, with or without fractional seconds.
public enum RFC3339Time {
    public static func parse(_ text: String) -> Int64? {
        if let date = try? Date(text, strategy: .iso8601) { return Int64(date.timeIntervalSince1970) }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return (try? fractional.parse(text)).map { Int64($0.timeIntervalSince1970) }
    }
}
