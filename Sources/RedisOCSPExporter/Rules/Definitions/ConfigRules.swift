/// Rules on GET /v1/ocsp (`OCSPConfigCheck`).
extension Rule {
    static let disabled = Rule(
        name: "RedisOCSPDisabled", severity: "warning", forDuration: .seconds(300),
        summary: "OCSP stapling is disabled on cluster {{ $labels.cluster }}",
        description: "ocsp_functionality is false: the proxy staples no OCSP answer and clients that require stapling refuse to connect. Enable it with PUT /v1/ocsp.",
        expression: "redis_ocsp_enabled == 0"
    ) { snapshot, _, _ in
        guard let config = snapshot.config, !config.enabled else { return [] }
        return [AlertCondition(value: 0)]
    }

    static let noResponderURL = Rule(
        name: "RedisOCSPNoResponderURL", severity: "warning", forDuration: .seconds(300),
        summary: "OCSP is enabled on cluster {{ $labels.cluster }} but has no responder URL",
        description: "The proxy certificate names no OCSP responder, so the cluster cannot fetch a status to staple. Install a certificate with an OCSP AIA extension.",
        expression: """
            (redis_ocsp_responder_url_configured == 0 and on (cluster) redis_ocsp_enabled == 1)
              or on (cluster)
            max without (endpoint, error_code) (redis_ocsp_api_error{error_code="no_responder_url"})
            """
    ) { snapshot, _, _ in
        let missing = snapshot.config.map { $0.enabled && !$0.hasResponderURL } ?? false
        let answered = snapshot.failures.contains { $0.failure.code == "no_responder_url" }
        return missing || answered ? [AlertCondition(value: 0)] : []
    }
}
