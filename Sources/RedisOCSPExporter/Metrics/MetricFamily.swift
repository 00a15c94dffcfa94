/// The metric families derived from clusters, in the order they are exposed. Their names are
/// the public contract; the renderer writes each cluster's samples per family.
public enum ClusterFamily: Int, CaseIterable, Sendable {
    case enabled, responderURLConfigured, configInfo, queryFrequency, responseTimeout, recoveryFrequency,
         recoveryMaxTries
    case certStatus, producedAt, thisUpdate, nextUpdate, revocationTime
    case supported
    case nodeInfo, nodes
    case apiUp, apiError, apiErrorsTotal, apiRequestDuration, lastSuccess
    case staplingProbeSuccess, staplingProbeDuration, staplingProbeError, staplingProbeErrorsTotal, tlsCertNotAfter
    case stapledPresent, stapledVerified, stapledCertStatus, stapledProducedAt, stapledThisUpdate, stapledNextUpdate,
         stapledRevocationTime
    case alerts

    public var name: String { Self.table[rawValue].name }
    public var help: String { Self.table[rawValue].help }
    public var type: Exposition.MetricType { Self.table[rawValue].type }

    private static let table: [(name: String, type: Exposition.MetricType, help: String)] = [
        ("redis_ocsp_enabled", .gauge, "1 if OCSP stapling is enabled on the cluster (ocsp_functionality), else 0."),
        ("redis_ocsp_responder_url_configured", .gauge, "1 if the proxy certificate names an OCSP responder URL, else 0."),
        ("redis_ocsp_config_info", .gauge, "OCSP configuration of the cluster; always 1."),
        ("redis_ocsp_query_frequency_seconds", .gauge, "Interval between the cluster's OCSP queries (query_frequency)."),
        ("redis_ocsp_response_timeout_seconds", .gauge, "How long the cluster waits for the OCSP responder (response_timeout)."),
        ("redis_ocsp_recovery_frequency_seconds", .gauge, "Interval between retries after a failed OCSP query (recovery_frequency)."),
        ("redis_ocsp_recovery_max_tries", .gauge, "Retries before the OCSP query fails and the certificate is invalidated (recovery_max_tries)."),
        ("redis_ocsp_cert_status", .gauge, "Cached OCSP status of the proxy certificate: 1 for the current status, 0 for the others."),
        ("redis_ocsp_produced_at_timestamp_seconds", .gauge, "When the responder signed the cached OCSP response, as Unix time."),
        ("redis_ocsp_this_update_timestamp_seconds", .gauge, "Most recent time the responder confirmed the status (this_update), as Unix time."),
        ("redis_ocsp_next_update_timestamp_seconds", .gauge, "Expected time of the next status update (next_update), as Unix time; the staple is stale after it."),
        ("redis_ocsp_revocation_timestamp_seconds", .gauge, "When the certificate was revoked, as Unix time; present only for a revoked certificate."),
        ("redis_ocsp_supported", .gauge, "0 while the cluster answers ocsp_unsupported_by_capability (not all nodes support OCSP), 1 once an OCSP endpoint answered."),
        ("redis_ocsp_node_info", .gauge, "One series per cluster node with its address, software version and status; always 1."),
        ("redis_ocsp_nodes", .gauge, "Number of nodes in the cluster."),
        ("redis_ocsp_api_up", .gauge, "1 if the last request to the endpoint succeeded (2xx and a valid body), else 0."),
        ("redis_ocsp_api_error", .gauge, "1 for the current error of the endpoint, by error_code; absent while the endpoint is up."),
        ("redis_ocsp_api_errors_total", .counter, "Failed REST API requests, by endpoint and error_code."),
        ("redis_ocsp_api_request_duration_seconds", .histogram, "REST API request latency, including reading the body."),
        ("redis_ocsp_last_success_timestamp_seconds", .gauge, "Unix time of the last successful request to the endpoint."),
        ("redis_ocsp_stapling_probe_success", .gauge, "1 if the TLS handshake with the endpoint completed (with or without a staple), else 0."),
        ("redis_ocsp_stapling_probe_duration_seconds", .gauge, "How long the latest stapling probe of the endpoint took, connect and handshake included."),
        ("redis_ocsp_stapling_probe_error", .gauge, "1 for the current error of the stapling probe, by error_code; absent while the handshake succeeds."),
        ("redis_ocsp_stapling_probe_errors_total", .counter, "Failed stapling probes, by endpoint and error_code."),
        ("redis_ocsp_tls_cert_not_after_timestamp_seconds", .gauge, "notAfter of the certificate the endpoint serves, as Unix time."),
        ("redis_ocsp_stapled_response_present", .gauge, "1 if the endpoint stapled an OCSP response into the handshake, else 0."),
        ("redis_ocsp_stapled_response_verified", .gauge, "1 if the stapled response is for the served certificate and its signature verifies against the issuer, else 0."),
        ("redis_ocsp_stapled_cert_status", .gauge, "Certificate status in the stapled OCSP response: 1 for the current status, 0 for the others."),
        ("redis_ocsp_stapled_produced_at_timestamp_seconds", .gauge, "producedAt of the stapled OCSP response, as Unix time."),
        ("redis_ocsp_stapled_this_update_timestamp_seconds", .gauge, "thisUpdate of the stapled OCSP response, as Unix time."),
        ("redis_ocsp_stapled_next_update_timestamp_seconds", .gauge, "nextUpdate of the stapled OCSP response, as Unix time; clients reject the staple after it."),
        ("redis_ocsp_stapled_revocation_timestamp_seconds", .gauge, "revocationTime of the stapled OCSP response, as Unix time; present only for a revoked certificate."),
        ("redis_ocsp_alerts", .gauge, "Active alerts of the built-in rule evaluator: 1 per pending or firing alert."),
    ]
}
