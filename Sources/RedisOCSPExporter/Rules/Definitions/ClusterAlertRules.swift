/// Rules on what the cluster itself reports (`ClusterAlertsCheck`) and the served certificates.
extension Rule {
    static let queryFailing = Rule(
        name: "RedisOCSPQueryFailing", severity: "warning", forDuration: .seconds(300),
        summary: "Cluster {{ $labels.cluster }} cannot query its OCSP responder",
        description: "The cluster itself reports cluster_ocsp_query_failed: its cached OCSP answer is not refreshed and goes stale at next_update, after which clients that check stapling refuse to connect. Check that the nodes reach the responder named in the proxy certificate (POST /v1/ocsp/test).",
        comment: "What the cluster itself reports (GET /v1/cluster/alerts), and the served certificates.",
        expression: #"max without (alert) (redis_ocsp_cluster_alert{alert="cluster_ocsp_query_failed"}) == 1"#
    ) { snapshot, _, _ in
        snapshot.clusterReports("cluster_ocsp_query_failed") ? [AlertCondition(value: 1)] : []
    }

    static let clusterCertificateExpiring = Rule(
        name: "RedisClusterCertificateExpiring", severity: "warning", forDuration: .seconds(300),
        parameters: [.threshold(default: .seconds(30 * 86_400), allowsAuto: false)],
        summary: "A certificate of cluster {{ $labels.cluster }} expires soon",
        description: "A probed endpoint serves a certificate, or the cluster's health report lists one, whose notAfter is less than 30 days away, or the cluster reports cluster_certs_about_to_expire or cluster_ca_cert_about_to_expire: once it expires, every TLS handshake with it fails. Renew the certificate and install it on the cluster.",
        comment: "Value: the seconds left of the served, else the reported, certificate closest to expiry; else 1.",
        expression: """
            min without (endpoint) (redis_ocsp_tls_cert_not_after_timestamp_seconds) - time() < 2592000
              or on (cluster)
            min without (type) (redis_ocsp_cluster_cert_not_after_timestamp_seconds) - time() < 2592000
              or on (cluster)
            max without (alert) (redis_ocsp_cluster_alert{alert=~"cluster_certs_about_to_expire|cluster_ca_cert_about_to_expire"}) == 1
            """
    ) { snapshot, now, settings in
        // As `or` in PromQL: the served certificates' time left, else the health report's,
        // else the cluster's own alerts.
        let threshold = settings.threshold.seconds(for: snapshot.config)
        if let left = snapshot.stapling.compactMap({ $0.handshake?.leafNotAfter }).min().map({ Double($0) - now }), left < threshold {
            return [AlertCondition(value: left)]
        }
        if let left = snapshot.clusterCertificates?.compactMap(\.validUntil).min().map({ Double($0) - now }), left < threshold {
            return [AlertCondition(value: left)]
        }
        let reported = snapshot.clusterReports("cluster_certs_about_to_expire") || snapshot.clusterReports("cluster_ca_cert_about_to_expire")
        return reported ? [AlertCondition(value: 1)] : []
    }
}
