/// The rule on the one number every signal feeds (`ClientsFailAt`).
extension Rule {
    static let clientsFailSoon = Rule(
        name: "RedisOCSPClientsFailSoon", severity: "critical", forDuration: .zero,
        parameters: [.threshold(default: .seconds(86_400), allowsAuto: false)],
        summary: "Clients of cluster {{ $labels.cluster }} start refusing connections soon ({{ $labels.reason }})",
        description: "If nothing changes, clients that check stapling start refusing connections to cluster {{ $labels.cluster }} in {{ $value }} seconds (or already do, at or below 0) because of {{ $labels.reason }}: cert_expires (a served or proxy certificate expires), staple_expires (next_update passes while the cluster cannot refresh its answer), signer_expires (the staple's signer expires), revoked, wrong_certificate (an endpoint serves another certificate than the cluster's). The other alerts of the cluster say which part to fix.",
        comment: "Value: seconds until clients fail; the moment comes from every signal (redis_ocsp_clients_fail_at_timestamp_seconds).",
        expression: "redis_ocsp_clients_fail_at_timestamp_seconds - time() < 86400"
    ) { snapshot, now, settings in
        guard let earliest = ClientsFailAt.earliest(snapshot), earliest.at - now < settings.threshold.seconds(for: snapshot.config) else { return [] }
        return [AlertCondition(labels: [("reason", earliest.reason.rawValue)], value: earliest.at - now)]
    }
}
