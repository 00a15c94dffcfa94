/// The states a simulated cluster can be put in: every state and error the REST API reference
/// documents, and the transport failures a client meets.
public enum Scenario: String, Sendable, CaseIterable {
    /// OCSP enabled, certificate GOOD, cached answer fresh.
    case healthy
    /// ocsp_functionality false; the status is the last cached answer, stale.
    case disabled
    /// 406 ocsp_unsupported_by_capability on the OCSP endpoints; one node runs old software.
    case unsupported
    case revoked
    /// cert_status UNKNOWN.
    case unknown
    /// The cached answer's next_update has passed.
    case stale
    /// next_update is 20 minutes away.
    case expiring
    /// OCSP enabled but the certificate names no responder; status and test answer no_responder_url.
    case noResponderURL = "no_responder_url"
    /// The responder's answer was not OCSP-compatible: invalid_ocsp_response.
    case invalidOCSPResponse = "invalid_ocsp_response"
    /// POST /v1/ocsp/test answers task_queued_for_too_long.
    case taskQueued = "task_queued"
    /// The cluster cannot reach its responder: it raises cluster_ocsp_query_failed, its cached
    /// answer ages (next_update still hours ahead) and POST /v1/ocsp/test fails with 500.
    case queryFailed = "query_failed"
    /// The cluster raises cluster_certs_about_to_expire; OCSP itself is healthy.
    case certsExpiring = "certs_expiring"
    /// Every request gets 401: the credentials are rejected.
    case unauthorized
    /// The monitoring user lacks the admin role: 403 on the OCSP endpoints, as for a cluster_viewer.
    case forbidden
    /// 500 with an HTML error page, as a load balancer in front of the cluster would send.
    case serverError = "server_error"
    /// 200 with a body cut off mid-JSON.
    case malformedJSON = "malformed_json"
    /// A string where the API documents a number.
    case wrongTypes = "wrong_types"
    /// Dates that are not HTTP dates.
    case badDates = "bad_dates"
    /// GET /v1/nodes returns more than a megabyte.
    case huge
    /// Every answer is delayed (by `SimulatedCluster.slowDelay`).
    case slow
    /// Cycles through healthy, expiring, stale, revoked and disabled, one step per `changePeriod`.
    case changing

    static let changingCycle: [Scenario] = [.healthy, .expiring, .stale, .revoked, .disabled]
}
