/// Rules on the responder itself (`ResponderProbeCheck`), against what the cluster reports.
extension Rule {
    // The cluster retries a failing responder every recovery_frequency, recovery_max_tries
    // times; past that it gives up (and, by its object page, invalidates the certificate).
    // A next_update that comes sooner is RedisOCSPClientsFailSoon's (staple_expires).
    static let responderDown = Rule(
        name: "RedisOCSPResponderDown", severity: "critical", forDuration: .zero,
        summary: "The OCSP responder of cluster {{ $labels.cluster }} has failed longer than the cluster retries",
        description: "The responder {{ $labels.responder }} has failed every request for {{ $value }} seconds, longer than the cluster retries it (recovery_frequency x recovery_max_tries): the cluster cannot refresh its cached answer, and clients that check stapling fail once that answer's next_update passes. redis_ocsp_responder_error says how it fails.",
        comment: "Value: seconds the responder has failed; the cluster's retry budget comes from GET /v1/ocsp.",
        expression: """
            time() - redis_ocsp_responder_failing_since_timestamp_seconds
              > on (cluster) group_left ()
            (redis_ocsp_recovery_frequency_seconds * redis_ocsp_recovery_max_tries)
            """
    ) { snapshot, now, _ in
        guard let responder = snapshot.responder, let since = responder.failingSince, let config = snapshot.config,
              let frequency = config.recoveryFrequency, let tries = config.recoveryMaxTries, now - since > Double(frequency * tries)
        else { return [] }
        return [AlertCondition(labels: [("responder", responder.responder)], value: now - since)]
    }

    // The cluster refreshes its answer every query_frequency: an hour of lag is its normal
    // cycle, which the `for` rides out.
    static let revocationLag = Rule(
        name: "RedisOCSPRevocationLag", severity: "critical", forDuration: .seconds(3600),
        summary: "The responder says REVOKED while cluster {{ $labels.cluster }} still staples GOOD",
        description: "The responder {{ $labels.responder }} reports the proxy certificate REVOKED, while the cluster's cached answer or a staple still says GOOD: clients are told a revoked certificate is good until the cluster refreshes, then refuse every connection. Replace the certificate now, then refresh (rladmin cluster ocsp test_certificate).",
        comment: "Value: 1. The `for` is the grace period (the cluster's query_frequency, an hour by default).",
        expression: """
            max without (status) (redis_ocsp_responder_cert_status{status="REVOKED"}) == 1
              and on (cluster)
            (
                max without (status) (redis_ocsp_cert_status{status="GOOD"}) == 1
                  or on (cluster)
                max by (cluster) (redis_ocsp_stapled_cert_status{status="GOOD"}) == 1
            )
            """
    ) { snapshot, _, _ in
        guard let responder = snapshot.responder, responder.answer?.certStatus == .revoked,
              snapshot.status?.certStatus == .good || snapshot.stapling.contains(where: { $0.handshake?.staple?.certStatus == .good })
        else { return [] }
        return [AlertCondition(labels: [("responder", responder.responder)], value: 1)]
    }
}
