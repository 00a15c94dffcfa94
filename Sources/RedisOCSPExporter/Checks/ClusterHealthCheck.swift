import RedisSoftwareAPI

/// `GET /v4/cluster/health` (Redis Software 8.0.16 and later): the expiry of every
/// certificate the cluster holds, by type, which a viewer-level user may read too. Older
/// versions answer 404: that is recorded as the version lacking the endpoint, not as an
/// error, and the endpoint is not asked again until the configuration is reloaded.
struct ClusterHealthCheck: RESTCheck {
    let id = "health"
    static var state: WritableKeyPath<CheckStates, RESTState<ClusterHealthAnswer>?> { \.health }
    let path = "/v4/cluster/health"
    let permission = "view_cluster_info"
    let isOCSPEndpoint = false

    /// Selected by `endpoints:` like the others, but asked only now and then: it changes rarely.
    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.endpoints.map { $0.contains(id) } ?? true ? .rarely(for: cluster) : nil
    }
    let families: [ClusterFamily] = [.clusterCertNotAfter, .clusterCertExpired]

    func interpret(_ fetch: Fetch<ClusterHealthAnswer>) -> Fetch<ClusterHealthAnswer> {
        guard case .failure(let failure) = fetch.result, failure.httpStatus == 404 else { return fetch }
        return Fetch(result: .success(.notInThisVersion), duration: fetch.duration, answeredBy: fetch.answeredBy)
    }

    func isSettled(_ state: State) -> Bool { state.value == .notInThisVersion }

    func render(answer: ClusterHealthAnswer, into samples: inout ClusterSamples) {
        guard case .report(let health) = answer else { return }
        samples.write(.clusterCertNotAfter) { w in
            for certificate in health.certificates {
                if let validUntil = certificate.validUntil {
                    w.sample(ClusterFamily.clusterCertNotAfter.name, [("type", certificate.type)], Double(validUntil))
                }
            }
        }
        samples.write(.clusterCertExpired) { w in
            for certificate in health.certificates {
                w.sample(ClusterFamily.clusterCertExpired.name, [("type", certificate.type)], certificate.expired ? 1 : 0)
            }
        }
    }
}

/// The health report's certificates, or that the cluster's version has no health endpoint.
enum ClusterHealthAnswer: APIObject, Equatable {
    case report(ClusterHealth)
    case notInThisVersion

    static func decode(_ json: JSONValue) throws(DecodeError) -> ClusterHealthAnswer {
        .report(try ClusterHealth.decode(json))
    }
}

extension ClusterSnapshot {
    /// The certificates the cluster reports in its health report; nil where it was not read.
    var clusterCertificates: [ClusterHealth.Certificate]? {
        guard case .report(let health)? = checks.health?.value else { return nil }
        return health.certificates
    }
}

extension ClusterFamily {
    static let clusterCertNotAfter = ClusterFamily("redis_ocsp_cluster_cert_not_after_timestamp_seconds", .gauge, "valid_until of each certificate the cluster reports in GET /v4/cluster/health, by type, as Unix time.")
    static let clusterCertExpired = ClusterFamily("redis_ocsp_cluster_cert_expired", .gauge, "1 if the cluster reports the certificate of this type expired, else 0.")
}
