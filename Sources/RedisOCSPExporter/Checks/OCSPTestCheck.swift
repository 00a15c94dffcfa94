import RedisSoftwareAPI

/// `POST /v1/ocsp/test`: makes the cluster query its responder now. Only with the cluster's
/// `test_interval`, since each call queries the responder; its request statistics are its
/// whole output.
struct OCSPTestCheck: RESTCheck {
    let id = "test"
    static var state: WritableKeyPath<CheckStates, RESTState<OCSPStatus>?> { \.test }
    let method = "POST"
    let path = "/v1/ocsp/test"
    let permission = "test_ocsp_status"
    let families: [ClusterFamily] = []
    /// Chosen by `test_interval`, not by `endpoints:`.
    let selectable = false

    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.testInterval.map { .restRound(every: $0) }
    }

    func render(answer status: OCSPStatus, into samples: inout ClusterSamples) {}
}
