/// Rules on what the proxies staple (`StaplingCheck`): what clients are handed in the handshake.
extension Rule {
    static let stapleMissing = Rule(
        name: "RedisOCSPStapleMissing", severity: "critical", forDuration: .seconds(300),
        summary: "{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples no OCSP response",
        description: "OCSP is enabled, but the TLS handshake with {{ $labels.endpoint }} carries no staple: clients that require stapling refuse to connect. Check the proxy's OCSP status (POST /v1/ocsp/test) and the certificate served on this endpoint.",
        comment: "The stapling probe: what clients are handed in the TLS handshake.",
        expression: "redis_ocsp_stapled_response_present == 0 and on (cluster) redis_ocsp_enabled == 1"
    ) { snapshot, _, _ in
        guard snapshot.config?.enabled == true else { return [] }
        return snapshot.stapling.compactMap { probe in
            guard let handshake = probe.handshake, handshake.staple == nil else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: 0)
        }
    }

    static let stapleInvalid = Rule(
        name: "RedisOCSPStapleInvalid", severity: "critical", forDuration: .zero,
        summary: "{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an OCSP response that does not verify",
        description: "The stapled response is for another certificate or its signature does not verify against the issuer: clients that check stapling reject it. See the exporter's log for the reason.",
        expression: "redis_ocsp_stapled_response_verified == 0 and redis_ocsp_stapled_response_present == 1"
    ) { snapshot, _, _ in
        snapshot.stapling.compactMap { probe in
            guard let staple = probe.handshake?.staple, !staple.verified else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: 0, extraAnnotations: ["problem": staple.problem ?? "unknown"])
        }
    }

    // Right after the cluster refreshes its answer, the proxies staple the old one for a while.
    static let stapleMismatch = Rule(
        name: "RedisOCSPStapleMismatch", severity: "warning", forDuration: .seconds(900),
        summary: "{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an older OCSP answer than the cluster holds",
        description: "This endpoint staples an answer that disagrees with the cluster's cached one (value {{ $value }}: 1 when the certificate status differs, else the seconds by which the staple's nextUpdate is older). Check the proxy of the node behind it.",
        comment: """
            Value 1: the stapled status differs from the API's; otherwise the seconds by which
            the staple's nextUpdate is older than the cached answer's. Verified staples only.
            """,
        expression: """
            (
              max without (status) (
                redis_ocsp_stapled_cert_status == 1
                unless on (cluster, status) redis_ocsp_cert_status == 1
              )
              and on (cluster) redis_ocsp_cert_status
              or
              redis_ocsp_next_update_timestamp_seconds - on (cluster) group_right redis_ocsp_stapled_next_update_timestamp_seconds > 0
            )
            and on (cluster, endpoint) redis_ocsp_stapled_response_verified == 1
            """
    ) { snapshot, _, _ in
        guard let api = snapshot.status else { return [] }
        return snapshot.stapling.compactMap { probe in
            guard let staple = probe.handshake?.staple, staple.verified else { return nil }
            // The value: 1 for a differing status, else how many seconds the staple lags.
            if let stapled = staple.certStatus, stapled != api.certStatus {
                return AlertCondition(labels: [("endpoint", probe.endpoint)], value: 1,
                                      extraAnnotations: ["stapled_status": stapled.rawValue, "api_status": api.certStatus.rawValue])
            }
            guard let stapledNext = staple.nextUpdate, let apiNext = api.nextUpdate, apiNext > stapledNext else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: Double(apiNext - stapledNext))
        }
    }

    static let stapleStale = Rule(
        name: "RedisOCSPStapleStale", severity: "critical", forDuration: .zero,
        summary: "{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an expired OCSP response",
        description: "The stapled response's nextUpdate passed {{ $value }} seconds ago: clients that check stapling reject it. Check that the cluster reaches its responder (POST /v1/ocsp/test).",
        expression: "time() - redis_ocsp_stapled_next_update_timestamp_seconds > 0"
    ) { snapshot, now, _ in
        snapshot.stapling.compactMap { probe in
            guard let next = probe.handshake?.staple?.nextUpdate, now - Double(next) > 0 else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: now - Double(next))
        }
    }

    // The signer's expiry breaks every staple it signed at once, on every cluster it serves.
    static let signerExpiring = Rule(
        name: "RedisOCSPSignerExpiring", severity: "warning", forDuration: .seconds(300),
        parameters: [.threshold(default: .seconds(14 * 86_400), allowsAuto: false)],
        summary: "The certificate that signs the staples of {{ $labels.endpoint }} (cluster {{ $labels.cluster }}) expires soon",
        description: "The OCSP responder certificate (or the issuer) that signed this endpoint's staple expires in {{ $value }} seconds: from then on no staple it signed verifies, on every cluster that uses the same responder. Have the CA renew the responder certificate before then.",
        expression: "redis_ocsp_stapled_signer_not_after_timestamp_seconds - time() < 1209600"
    ) { snapshot, now, settings in
        let threshold = settings.threshold.seconds(for: snapshot.config)
        return snapshot.stapling.compactMap { probe in
            guard let notAfter = probe.handshake?.staple?.signerNotAfter, Double(notAfter) - now < threshold else { return nil }
            return AlertCondition(labels: [("endpoint", probe.endpoint)], value: Double(notAfter) - now)
        }
    }
}
