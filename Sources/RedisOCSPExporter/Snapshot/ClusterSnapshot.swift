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
    /// Each check's state, by check id, for the checks this cluster runs.
    private var states: [String: any Sendable]
    /// Which configuration of the cluster the snapshot belongs to: the store drops results of
    /// a round that ran for a configuration since replaced.
    var epoch: UInt64 = 0
    /// Set by the store when it stores the snapshot (`SnapshotStore.Entry.version`).
    var version: UInt64 = 0

    init(cluster: ClusterConfig) {
        name = cluster.name
        labels = cluster.labels
        baseURL = cluster.baseURL
        let used = Checks.all.filter { $0.schedule(for: cluster) != nil }
        states = Dictionary(uniqueKeysWithValues: used.map { ($0.id, $0.initialAnyState(for: cluster)) })
        unchecked = Set(CheckRound.lanes(for: cluster).map(\.lane))
    }

    func state<C: Check>(of check: C) -> C.State? { states[check.id] as? C.State }

    mutating func setState<C: Check>(_ state: C.State, of check: C) {
        states[check.id] = state
    }

    func rest<C: RESTCheck>(_ check: C) -> RESTState<C.Value>? { state(of: check) }

    mutating func setValue<C: RESTCheck>(_ value: C.Value?, of check: C) {
        guard var state = rest(check) else { return }
        state.value = value
        setState(state, of: check)
    }

    /// The states by check id, type-erased, for the round runner and the renderer.
    func anyState(_ id: String) -> (any Sendable)? { states[id] }

    mutating func setAnyState(_ state: any Sendable, _ id: String) {
        states[id] = state
    }

    /// The request statistics of every REST check the cluster runs, in check order.
    var endpoints: [EndpointHealth] {
        get { Checks.all.compactMap { (states[$0.id] as? any RESTReport)?.health } }
        set {
            for health in newValue {
                guard var report = states[health.endpoint] as? any RESTReport else { continue }
                report.health = health
                states[health.endpoint] = report
            }
        }
    }

    func health(_ endpoint: String) -> EndpointHealth? {
        (states[endpoint] as? any RESTReport)?.health
    }
}
