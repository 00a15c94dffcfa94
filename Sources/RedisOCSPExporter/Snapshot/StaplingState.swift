import RedisSoftwareAPI

/// What a TLS handshake with one endpoint showed a client that asks for stapling.
public struct Handshake: Sendable, Equatable {
    /// notAfter of the served leaf certificate, as Unix time.
    public var leafNotAfter: Int64?
    /// nil when the server stapled nothing.
    public var staple: Staple?

    public init(leafNotAfter: Int64?, staple: Staple?) {
        self.leafNotAfter = leafNotAfter
        self.staple = staple
    }
}

/// The OCSP response a server stapled, as parsed and checked by the probe.
public struct Staple: Sendable, Equatable {
    /// The response is for the served leaf (CertID match) and its signature verifies against
    /// the leaf's issuer.
    public var verified: Bool
    /// Why it is not verified; nil when it is.
    public var problem: String?
    /// nil when the response carries no single response (or no successful response at all).
    public var certStatus: OCSPStatus.CertStatus?
    public var producedAt: Int64?
    public var thisUpdate: Int64?
    public var nextUpdate: Int64?
    public var revocationTime: Int64?

    public init(verified: Bool, problem: String?, certStatus: OCSPStatus.CertStatus?, producedAt: Int64?, thisUpdate: Int64?,
                nextUpdate: Int64?, revocationTime: Int64?) {
        self.verified = verified
        self.problem = problem
        self.certStatus = certStatus
        self.producedAt = producedAt
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revocationTime = revocationTime
    }
}

/// The latest probe of one endpoint and its error counts.
public struct StaplingProbeState: Sendable {
    /// host:port, the `endpoint` label.
    public var endpoint: String
    /// nil before the first probe finished.
    public var result: Result<Handshake, APIFailure>?
    /// Seconds the latest probe took.
    public var duration: Double?
    /// Failed probes by error_code, since the exporter started.
    public var errorsTotal: [String: UInt64] = [:]

    public init(endpoint: String) { self.endpoint = endpoint }

    public var handshake: Handshake? { try? result?.get() }
    public var error: APIFailure? {
        if case .failure(let failure)? = result { failure } else { nil }
    }

    mutating func record(_ result: Result<Handshake, APIFailure>, duration: Double) {
        self.result = result
        self.duration = duration
        if case .failure(let failure) = result { errorsTotal[failure.code, default: 0] += 1 }
    }
}
