/// Rules on the REST requests themselves (every `RESTCheck`).
extension Rule {
    /// Error codes that are OCSP states with rules of their own, not an API outage.
    static let codesNotCountedAsDown: Set<String> = [CheckFailure.unsupported, "no_responder_url"]

    static let apiDown = Rule(
        name: "RedisOCSPAPIDown", severity: "warning", forDuration: .seconds(600),
        summary: "The REST API of cluster {{ $labels.cluster }} fails for {{ $labels.endpoint }}",
        description: "Requests to the {{ $labels.endpoint }} endpoint have failed for a while, so its OCSP state is not monitored. See redis_ocsp_api_error for the error code.",
        expression: """
            redis_ocsp_api_up == 0
            unless on (cluster, endpoint)
            redis_ocsp_api_error{error_code=~"ocsp_unsupported_by_capability|no_responder_url"}
            """
    ) { snapshot, _, _ in
        snapshot.failures.compactMap { endpoint, error in
            guard !codesNotCountedAsDown.contains(error.code) else { return nil }
            return AlertCondition(labels: [("endpoint", endpoint)], value: 0, extraAnnotations: ["error_code": error.code])
        }
    }
}
