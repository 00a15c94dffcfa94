/// Rules on GET /v1/ocsp/status (`OCSPStatusCheck`) and the cluster's own revocation alert.
extension Rule {
    static let certRevoked = Rule(
        name: "RedisOCSPCertRevoked", severity: "critical", forDuration: .zero,
        summary: "The proxy certificate of cluster {{ $labels.cluster }} is REVOKED",
        description: "The cached OCSP answer says REVOKED: clients that check stapling refuse every connection. Replace the proxy certificate now.",
        comment: "The cached status, or the cluster's own cluster_ocsp_status_revoked (which a viewer can read).",
        expression: """
            max without (status) (redis_ocsp_cert_status{status="REVOKED"}) == 1
              or on (cluster)
            max without (alert) (redis_ocsp_cluster_alert{alert="cluster_ocsp_status_revoked"}) == 1
            """
    ) { snapshot, _, _ in
        let reported = snapshot.status?.certStatus == .revoked || snapshot.clusterReports("cluster_ocsp_status_revoked")
        return reported ? [AlertCondition(value: 1)] : []
    }

    static let certStatusUnknown = Rule(
        name: "RedisOCSPCertStatusUnknown", severity: "critical", forDuration: .zero,
        summary: "The OCSP status of cluster {{ $labels.cluster }} is UNKNOWN",
        description: "The responder does not know the proxy certificate: clients that check stapling refuse to connect. Check the certificate's issuer and the responder URL.",
        expression: #"max without (status) (redis_ocsp_cert_status{status="UNKNOWN"}) == 1"#
    ) { snapshot, _, _ in
        snapshot.status?.certStatus == .unknown ? [AlertCondition(value: 1)] : []
    }

    // A cluster with OCSP off staples nothing: the age of its cached answer does not matter
    // to clients (RedisOCSPDisabled says what does).
    static let responseStale = Rule(
        name: "RedisOCSPResponseStale", severity: "critical", forDuration: .zero,
        summary: "The cached OCSP answer of cluster {{ $labels.cluster }} is stale",
        description: "next_update passed {{ $value }} seconds ago: clients that check stapling reject the staple. Check that the cluster reaches its responder (POST /v1/ocsp/test).",
        comment: "Gated on OCSP being enabled: a cluster with OCSP off staples nothing (RedisOCSPDisabled).",
        expression: "time() - redis_ocsp_next_update_timestamp_seconds > 0 and on (cluster) redis_ocsp_enabled == 1"
    ) { snapshot, now, _ in
        guard snapshot.config?.enabled == true, let next = snapshot.status?.nextUpdate, now - Double(next) > 0 else { return [] }
        return [AlertCondition(value: now - Double(next))]
    }

    static let responseExpiringSoon = Rule(
        name: "RedisOCSPResponseExpiringSoon", severity: "warning", forDuration: .seconds(300),
        parameters: [.threshold(default: .seconds(3600), allowsAuto: true)],
        summary: "The cached OCSP answer of cluster {{ $labels.cluster }} expires soon",
        description: "next_update is {{ $value }} seconds away and the cluster has not refreshed its answer. Check that it reaches its responder (POST /v1/ocsp/test).",
        expression: "redis_ocsp_next_update_timestamp_seconds - time() >= 0 < 3600 and on (cluster) redis_ocsp_enabled == 1"
    ) { snapshot, now, settings in
        guard snapshot.config?.enabled == true, let next = snapshot.status?.nextUpdate else { return [] }
        let left = Double(next) - now
        return left >= 0 && left < settings.threshold.seconds(for: snapshot.config) ? [AlertCondition(value: left)] : []
    }
}
