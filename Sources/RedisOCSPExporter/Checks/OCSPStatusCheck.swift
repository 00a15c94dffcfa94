import RedisSoftwareAPI

/// `GET /v1/ocsp/status`: the OCSP answer the cluster cached and staples.
struct OCSPStatusCheck: RESTCheck {
    let id = "status"
    static var state: WritableKeyPath<CheckStates, RESTState<OCSPStatus>?> { \.status }
    let path = "/v1/ocsp/status"
    let permission = "view_ocsp_status"
    let families: [ClusterFamily] = [.certStatus, .producedAt, .thisUpdate, .nextUpdate, .revocationTime]

    func render(answer status: OCSPStatus, into samples: inout ClusterSamples) {
        samples.write(.certStatus) { $0.stateSet(ClusterFamily.certStatus.name, [], status.certStatus) }
        samples.gauge(.producedAt, status.producedAt.map(Double.init))
        samples.gauge(.thisUpdate, status.thisUpdate.map(Double.init))
        samples.gauge(.nextUpdate, status.nextUpdate.map(Double.init))
        samples.gauge(.revocationTime, status.revocationTime.map(Double.init))
    }

    /// A date that is not an HTTP date leaves its series out; says so once per new value.
    func logChanges(from before: OCSPStatus?, to after: OCSPStatus?, context: CheckContext) {
        let old = before?.unparsedDates ?? [:]
        guard let after, after.unparsedDates != old else { return }
        for (field, text) in after.unparsedDates.sorted(by: { $0.key < $1.key }) where old[field] != text {
            context.logger.warning("OCSP status date is not an HTTP date; its series is left out", metadata: [
                "cluster": "\(context.cluster.name)", "field": "\(field)", "value": "\(text.prefix(100))",
            ])
        }
    }
}

extension ClusterSnapshot {
    /// The latest answer of `GET /v1/ocsp/status`; nil where it failed.
    var status: OCSPStatus? { checks.status?.value }
}

extension SampleWriter {
    /// A state set over GOOD, REVOKED and UNKNOWN: the current status 1, the others 0.
    mutating func stateSet(_ name: String, _ labels: [(String, String)], _ current: OCSPStatus.CertStatus) {
        for candidate in OCSPStatus.CertStatus.allCases {
            sample(name, labels + [("status", candidate.rawValue)], candidate == current ? 1 : 0)
        }
    }
}

extension ClusterFamily {
    static let certStatus = ClusterFamily("redis_ocsp_cert_status", .gauge, "Cached OCSP status of the proxy certificate: 1 for the current status, 0 for the others.")
    static let producedAt = ClusterFamily("redis_ocsp_produced_at_timestamp_seconds", .gauge, "When the responder signed the cached OCSP response, as Unix time.")
    static let thisUpdate = ClusterFamily("redis_ocsp_this_update_timestamp_seconds", .gauge, "Most recent time the responder confirmed the status (this_update), as Unix time.")
    static let nextUpdate = ClusterFamily("redis_ocsp_next_update_timestamp_seconds", .gauge, "Expected time of the next status update (next_update), as Unix time; the staple is stale after it.")
    static let revocationTime = ClusterFamily("redis_ocsp_revocation_timestamp_seconds", .gauge, "When the certificate was revoked, as Unix time; present only for a revoked certificate.")
}
