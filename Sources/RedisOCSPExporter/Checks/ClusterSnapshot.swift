/// Everything known about one cluster: the state of each of its checks. An immutable value
/// once published: a check round makes a new one, and the renderer, the rule engine, the
/// landing page and readiness read it.
struct ClusterSnapshot: Sendable {
    var name: String
    var labels: Labels
    var baseURL: String
    /// Unix time at which the latest round of any of its checks finished; nil until each of
    /// them has run once.
    var polledAt: Double?
    /// The lanes that have not finished a round yet.
    var unchecked: Set<CheckRound.Lane>
    /// false while the cluster answers ocsp_unsupported_by_capability, true once an OCSP
    /// endpoint answered; nil when the latest round showed neither.
    var supported: Bool?
    /// What the monitoring user may read, as the REST rounds showed it; nil until known.
    var accessLevel: AccessLevel?
    /// Each check's state; nil for the checks this cluster does not run.
    var checks = CheckStates()
    /// Which configuration of the cluster the snapshot belongs to: the store drops results of
    /// a round that ran for a configuration since replaced.
    var epoch: UInt64 = 0
    /// Set by the store when it stores the snapshot (`SnapshotStore.Entry.version`).
    var version: UInt64 = 0

    init(cluster: ClusterConfig) {
        name = cluster.name
        labels = cluster.labels
        baseURL = cluster.baseURL
        for check in Checks.all where check.schedule(for: cluster) != nil { check.start(&checks, for: cluster) }
        unchecked = Set(CheckRound.lanes(for: cluster).map(\.lane))
    }

    /// The request statistics of every REST check the cluster runs, in check order.
    var endpoints: [EndpointHealth] { checks.endpoints }

    /// The REST checks whose latest request failed, with the failure, in check order.
    var failures: [(endpoint: String, failure: CheckFailure)] { checks.failures }

    func health(_ endpoint: String) -> EndpointHealth? {
        endpoints.first { $0.endpoint == endpoint }
    }
}
