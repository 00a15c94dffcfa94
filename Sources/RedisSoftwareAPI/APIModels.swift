/// The REST API's objects, as the exporter reads them.

/// GET /v1/ocsp: the cluster's OCSP configuration.
public struct OCSPConfig: Sendable, Equatable {
    public var enabled: Bool
    /// nil when the field is absent; may be empty.
    public var responderURL: String?
    public var queryFrequency: Int64?
    public var responseTimeout: Int64?
    public var recoveryFrequency: Int64?
    public var recoveryMaxTries: Int64?

    public var hasResponderURL: Bool { !(responderURL ?? "").isEmpty }

    public init(enabled: Bool, responderURL: String? = nil, queryFrequency: Int64? = nil, responseTimeout: Int64? = nil,
                recoveryFrequency: Int64? = nil, recoveryMaxTries: Int64? = nil) {
        self.enabled = enabled
        self.responderURL = responderURL
        self.queryFrequency = queryFrequency
        self.responseTimeout = responseTimeout
        self.recoveryFrequency = recoveryFrequency
        self.recoveryMaxTries = recoveryMaxTries
    }
}

/// GET /v1/ocsp/status and POST /v1/ocsp/test: the cached status of the proxy certificate.
public struct OCSPStatus: Sendable, Equatable {
    public enum CertStatus: String, Sendable, CaseIterable {
        case good = "GOOD", revoked = "REVOKED", unknown = "UNKNOWN"
    }

    /// The raw value the API sent, kept for logs and the landing page.
    public var rawCertStatus: String
    public var responderURL: String?
    /// Dates as Unix seconds; nil when absent or unparseable (see `unparsedDates`).
    public var producedAt: Int64?
    public var thisUpdate: Int64?
    public var nextUpdate: Int64?
    public var revocationTime: Int64?
    /// Date fields that were present but not HTTP dates, with their raw text.
    public var unparsedDates: [String: String]

    /// Anything outside the three documented values counts as UNKNOWN, as a client would treat it.
    public var certStatus: CertStatus { CertStatus(rawValue: rawCertStatus.uppercased()) ?? .unknown }

    public init(rawCertStatus: String, responderURL: String?, producedAt: Int64?, thisUpdate: Int64?, nextUpdate: Int64?,
                revocationTime: Int64?, unparsedDates: [String: String]) {
        self.rawCertStatus = rawCertStatus
        self.responderURL = responderURL
        self.producedAt = producedAt
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revocationTime = revocationTime
        self.unparsedDates = unparsedDates
    }
}

/// One entry of GET /v1/nodes.
public struct ClusterNode: Sendable, Equatable {
    public var uid: Int64
    public var addr: String
    public var status: String
    public var softwareVersion: String

    public init(uid: Int64, addr: String, status: String, softwareVersion: String) {
        self.uid = uid
        self.addr = addr
        self.status = status
        self.softwareVersion = softwareVersion
    }
}

/// A REST API object the client can decode from a response body.
public protocol APIObject: Sendable {
    static func decode(_ json: JSONValue) throws(DecodeError) -> Self
}

extension OCSPConfig: APIObject {
    public static func decode(_ json: JSONValue) throws(DecodeError) -> OCSPConfig {
        let o = try JSONObject(json, context: "ocsp")
        return OCSPConfig(
            enabled: try o.required("ocsp_functionality", o.bool),
            responderURL: try o.string("responder_url"),
            queryFrequency: try o.int("query_frequency"),
            responseTimeout: try o.int("response_timeout"),
            recoveryFrequency: try o.int("recovery_frequency"),
            recoveryMaxTries: try o.int("recovery_max_tries")
        )
    }
}

extension OCSPStatus: APIObject {
    public static func decode(_ json: JSONValue) throws(DecodeError) -> OCSPStatus {
        let o = try JSONObject(json, context: "ocsp_status")
        var unparsed: [String: String] = [:]
        func date(_ key: String) throws(DecodeError) -> Int64? {
            guard let text = try o.string(key) else { return nil }
            guard let value = HTTPDate.parse(text) else {
                unparsed[key] = text
                return nil
            }
            return value
        }
        let producedAt = try date("produced_at")
        let thisUpdate = try date("this_update")
        let nextUpdate = try date("next_update")
        let revocationTime = try date("revocation_time")
        return OCSPStatus(
            rawCertStatus: try o.required("cert_status", o.string), responderURL: try o.string("responder_url"),
            producedAt: producedAt, thisUpdate: thisUpdate, nextUpdate: nextUpdate, revocationTime: revocationTime,
            unparsedDates: unparsed
        )
    }
}

extension [ClusterNode]: APIObject {
    public static func decode(_ json: JSONValue) throws(DecodeError) -> [ClusterNode] {
        guard case .array(let items) = json else { throw DecodeError("nodes: expected a JSON array") }
        var nodes: [ClusterNode] = []
        nodes.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let o = try JSONObject(item, context: "nodes[\(i)]")
            nodes.append(ClusterNode(
                uid: try o.required("uid", o.int),
                addr: try o.string("addr") ?? "",
                status: try o.string("status") ?? "",
                softwareVersion: try o.string("software_version") ?? ""
            ))
        }
        return nodes
    }
}
