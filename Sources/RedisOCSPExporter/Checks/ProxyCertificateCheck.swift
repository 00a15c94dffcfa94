import RedisSoftwareAPI

/// `GET /v1/cluster`: the certificate the proxies should serve (`proxy_certificate`), so that
/// a proxy serving another one shows. Only that field is read: the cluster object also holds
/// settings such as `smtp_password`, and nothing of it but the certificate's fingerprint and
/// notAfter is kept. (`GET /v1/cluster/certificates` is never called: it returns private keys.)
struct ProxyCertificateCheck: RESTCheck {
    let id = "cluster"
    static var state: WritableKeyPath<CheckStates, RESTState<ProxyCertificate>?> { \.cluster }
    let path = "/v1/cluster"
    let permission = "view_cluster_info"
    let isOCSPEndpoint = false

    /// Selected by `endpoints:` like the others, but asked only now and then: it changes rarely.
    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.endpoints.map { $0.contains(id) } ?? true ? .rarely(for: cluster) : nil
    }
    let families: [ClusterFamily] = [.proxyCertNotAfter, .proxyCertInfo, .tlsCertMatchesCluster]

    func render(answer: ProxyCertificate, into samples: inout ClusterSamples) {
        samples.gauge(.proxyCertNotAfter, Double(answer.certificate.notAfter))
        samples.write(.proxyCertInfo) { $0.sample(ClusterFamily.proxyCertInfo.name, [("sha256", answer.certificate.sha256)], 1) }
    }

    /// Per probed endpoint, whether it serves the cluster's proxy certificate.
    func render(_ state: State, with states: CheckStates, into samples: inout ClusterSamples) {
        render(state, into: &samples)
        guard let proxy = state.value?.certificate.sha256 else { return }
        samples.write(.tlsCertMatchesCluster) { w in
            for probe in states.stapling ?? [] {
                guard let served = probe.handshake?.leafSHA256 else { continue }
                w.sample(ClusterFamily.tlsCertMatchesCluster.name, [("endpoint", probe.endpoint)], served == proxy ? 1 : 0)
            }
        }
    }
}

/// The one field of the cluster object the exporter reads.
struct ProxyCertificate: APIObject, Equatable {
    var certificate: CertificateInfo

    static func decode(_ json: JSONValue) throws(DecodeError) -> ProxyCertificate {
        let object = try JSONObject(json, context: "cluster")
        let pem = try object.required("proxy_certificate", object.string)
        guard let certificate = CertificateInfo(pem: pem) else { throw DecodeError("cluster.proxy_certificate: not a PEM certificate") }
        return ProxyCertificate(certificate: certificate)
    }
}

extension ClusterSnapshot {
    /// The certificate the cluster's proxies should serve; nil where the request failed.
    var proxyCertificate: CertificateInfo? { checks.cluster?.value?.certificate }
}

extension ClusterFamily {
    static let proxyCertNotAfter = ClusterFamily("redis_ocsp_proxy_cert_not_after_timestamp_seconds", .gauge, "notAfter of the cluster's proxy_certificate, as Unix time.")
    static let proxyCertInfo = ClusterFamily("redis_ocsp_proxy_cert_info", .gauge, "The cluster's proxy_certificate, by the SHA-256 of its DER; always 1.")
    static let tlsCertMatchesCluster = ClusterFamily("redis_ocsp_tls_cert_matches_cluster", .gauge, "1 if the endpoint serves the cluster's proxy_certificate, 0 if another; absent while either is unknown.")
}
