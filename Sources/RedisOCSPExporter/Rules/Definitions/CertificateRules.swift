/// Rules on the certificate clients are served (`ProxyCertificateCheck` with `StaplingCheck`).
extension Rule {
    // Long enough to ride out a certificate rotation, while the proxies pick up the new one.
    static let proxyCertificateMismatch = Rule(
        name: "RedisProxyCertificateMismatch", severity: "warning", forDuration: .seconds(900),
        summary: "{{ $labels.endpoint }} of cluster {{ $labels.cluster }} serves another certificate than the cluster's proxy certificate",
        description: "The certificate this endpoint serves is not the cluster's proxy_certificate: clients get a certificate whose OCSP status the cluster neither checks nor staples, and which may expire or be revoked unseen. Proxies have kept serving a replaced certificate (RS154601, RS122668); restart the proxy of the node behind the endpoint.",
        expression: "redis_ocsp_tls_cert_matches_cluster == 0"
    ) { snapshot, _, _ in
        guard let proxy = snapshot.proxyCertificate?.sha256 else { return [] }
        return snapshot.stapling.compactMap { probe in
            guard let served = probe.handshake?.leafSHA256, served != proxy else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: 0)
        }
    }
}
