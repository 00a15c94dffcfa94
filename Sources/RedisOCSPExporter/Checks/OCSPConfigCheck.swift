import RedisSoftwareAPI

/// `GET /v1/ocsp`: whether OCSP is switched on and how the cluster queries its responder.
struct OCSPConfigCheck: RESTCheck {
    let id = "config"
    static var state: WritableKeyPath<CheckStates, RESTState<OCSPConfig>?> { \.config }
    let path = "/v1/ocsp"
    let permission = "view_ocsp_config"
    let families: [ClusterFamily] = [
        .enabled, .responderURLConfigured, .configInfo, .queryFrequency, .responseTimeout, .recoveryFrequency, .recoveryMaxTries,
    ]

    func render(answer config: OCSPConfig, into samples: inout ClusterSamples) {
        samples.gauge(.enabled, config.enabled ? 1 : 0)
        samples.gauge(.responderURLConfigured, config.hasResponderURL ? 1 : 0)
        samples.write(.configInfo) { $0.sample(ClusterFamily.configInfo.name, [("responder_url", config.responderURL ?? "")], 1) }
        samples.gauge(.queryFrequency, config.queryFrequency.map(Double.init))
        samples.gauge(.responseTimeout, config.responseTimeout.map(Double.init))
        samples.gauge(.recoveryFrequency, config.recoveryFrequency.map(Double.init))
        samples.gauge(.recoveryMaxTries, config.recoveryMaxTries.map(Double.init))
    }
}

extension ClusterSnapshot {
    /// The latest answer of `GET /v1/ocsp`; nil where it failed.
    var config: OCSPConfig? { checks.config?.value }
}

extension ClusterFamily {
    static let enabled = ClusterFamily("redis_ocsp_enabled", .gauge, "1 if OCSP stapling is enabled on the cluster (ocsp_functionality), else 0.")
    static let responderURLConfigured = ClusterFamily("redis_ocsp_responder_url_configured", .gauge, "1 if the proxy certificate names an OCSP responder URL, else 0.")
    static let configInfo = ClusterFamily("redis_ocsp_config_info", .gauge, "OCSP configuration of the cluster; always 1.")
    static let queryFrequency = ClusterFamily("redis_ocsp_query_frequency_seconds", .gauge, "Interval between the cluster's OCSP queries (query_frequency).")
    static let responseTimeout = ClusterFamily("redis_ocsp_response_timeout_seconds", .gauge, "How long the cluster waits for the OCSP responder (response_timeout).")
    static let recoveryFrequency = ClusterFamily("redis_ocsp_recovery_frequency_seconds", .gauge, "Interval between retries after a failed OCSP query (recovery_frequency).")
    static let recoveryMaxTries = ClusterFamily("redis_ocsp_recovery_max_tries", .gauge, "Retries before the OCSP query fails and the certificate is invalidated (recovery_max_tries).")
}
