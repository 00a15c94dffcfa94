import RedisSoftwareAPI
import Logging

/// One signal source: what it asks a cluster, what it keeps of the answer, and how that
/// becomes samples. Each check is one type in one file of this folder and one line in
/// `Checks.all`; the scheduler, /probe, the snapshot and the renderer reach it only through
/// this protocol.
protocol Check: Sendable {
    /// What the check keeps per cluster between runs: its latest result and its counters.
    associatedtype State: Sendable
    /// The check's name: the `endpoint` label of the REST checks.
    var id: String { get }
    /// Where a snapshot keeps its state: its field of `CheckStates`.
    static var state: WritableKeyPath<CheckStates, State?> { get }
    /// Its metric families, in page order.
    var families: [ClusterFamily] { get }
    /// When it runs for `cluster`; nil when that cluster does not use it.
    func schedule(for cluster: ClusterConfig) -> CheckSchedule?
    /// The state before the first run.
    func initialState(for cluster: ClusterConfig) -> State
    /// Runs once against the cluster within the context's timeouts and returns the next
    /// state, counters carried on from `previous`; `seen` holds what every check found last.
    /// Throws only when cancelled.
    func run(_ context: CheckContext, previous: State, seen: CheckStates) async throws -> State
    /// Writes the state's samples into the cluster's families.
    func render(_ state: State, into samples: inout ClusterSamples)
    /// The same, for a check whose families also compare with other checks' states.
    func render(_ state: State, with states: CheckStates, into samples: inout ClusterSamples)

    // Implemented once, below, on the check's field of `CheckStates`. Requirements so that
    // each check's witness is specialized and reads its field directly: called through
    // `any Check`, the extension projected a generic key path at run time (about 900
    // instructions an access, a dozen accesses a round).
    func start(_ states: inout CheckStates, for cluster: ClusterConfig)
    func run(_ context: CheckContext, on states: CheckStates) async throws -> CheckStates
    func take(_ source: CheckStates, into states: inout CheckStates)
    func render(_ states: CheckStates, into samples: inout ClusterSamples)
}

/// When a check runs.
enum CheckSchedule: Sendable, Equatable {
    /// In the cluster's REST round, over its one kept-alive connection and within one slot
    /// of the bound on work in flight; with `every`, at most that often (the round's first
    /// run included).
    case restRound(every: Duration?)
    /// On its own, every `interval`.
    case own(interval: Duration)

    /// For what changes rarely (a certificate, a health report): in the REST round, every
    /// tenth round, at most every 10 minutes.
    static func rarely(for cluster: ClusterConfig) -> CheckSchedule? {
        .restRound(every: min(cluster.pollInterval * 10, .seconds(600)))
    }
}

/// What a check runs with. A class: the cluster's configuration and client are about 1 KB
/// of fields, many of them counted references, which a struct would copy (and retain one by
/// one) into every round and hold inline in each slot of the scheduler's table of jobs.
final class CheckContext: Sendable {
    let cluster: ClusterConfig
    let client: ClusterClient
    let logger: Logger
    /// Wall-clock time in Unix seconds; injectable so tests can control it.
    let now: @Sendable () -> Double

    init(cluster: ClusterConfig, client: ClusterClient, logger: Logger, now: @escaping @Sendable () -> Double) {
        self.cluster = cluster
        self.client = client
        self.logger = logger
        self.now = now
    }
}

/// Every signal source, in page order. A new check is a new file in this folder, one line
/// here and its field in `CheckStates` (for a REST check, also in `CheckStates.endpoints`).
enum Checks {
    static let all: [any Check] = [
        OCSPConfigCheck(),
        OCSPStatusCheck(),
        NodesCheck(),
        OCSPTestCheck(),
        ClusterAlertsCheck(),
        ProxyCertificateCheck(),
        ClusterHealthCheck(),
        StaplingCheck(),
        ResponderProbeCheck(),
    ]
}

/// Each check's state, in a field of its own type; nil for a check the cluster does not run.
struct CheckStates: Sendable {
    var config: RESTState<OCSPConfig>?
    var status: RESTState<OCSPStatus>?
    var nodes: RESTState<NodeList>?
    var test: RESTState<OCSPStatus>?
    var alerts: RESTState<ClusterAlerts>?
    var cluster: RESTState<ProxyCertificate>?
    var health: RESTState<ClusterHealthAnswer>?
    var stapling: [StaplingProbeState]?
    var responder: ResponderProbeState?

    /// Calls `body` with the request statistics of every REST check that runs, in check order.
    /// Read field by field: through `Checks.all`, each call cast every check and projected
    /// generic key paths, and the renderer and two rules ask on every publish.
    func forEachEndpoint(_ body: (borrowing EndpointHealth) -> Void) {
        if let config { body(config.health) }
        if let status { body(status.health) }
        if let nodes { body(nodes.health) }
        if let test { body(test.health) }
        if let alerts { body(alerts.health) }
        if let cluster { body(cluster.health) }
        if let health { body(health.health) }
    }

    /// The request statistics of every REST check that runs, in check order.
    var endpoints: [EndpointHealth] {
        var all: [EndpointHealth] = []
        forEachEndpoint { all.append(copy $0) }
        return all
    }

    /// The REST checks whose latest request failed, with the failure, in check order: what
    /// the rules ask on every evaluation, without copying each endpoint's statistics.
    var failures: [(endpoint: String, failure: CheckFailure)] {
        var failed: [(endpoint: String, failure: CheckFailure)] = []
        forEachEndpoint { health in
            if let error = health.error { failed.append((health.endpoint, error)) }
        }
        return failed
    }
}

/// What the round runner, the snapshot and the renderer do with any check, through its field.
extension Check {
    func start(_ states: inout CheckStates, for cluster: ClusterConfig) {
        states[keyPath: Self.state] = initialState(for: cluster)
    }

    /// Runs on the check's state in `states` (or the initial one) and returns states holding
    /// only the next one.
    func run(_ context: CheckContext, on states: CheckStates) async throws -> CheckStates {
        var next = CheckStates()
        next[keyPath: Self.state] = try await run(context, previous: states[keyPath: Self.state] ?? initialState(for: context.cluster),
                                                  seen: states)
        return next
    }

    /// Copies the check's state from `source`, where it ran, into `states`.
    func take(_ source: CheckStates, into states: inout CheckStates) {
        if let state = source[keyPath: Self.state] { states[keyPath: Self.state] = state }
    }

    func render(_ state: State, with states: CheckStates, into samples: inout ClusterSamples) {
        render(state, into: &samples)
    }

    func render(_ states: CheckStates, into samples: inout ClusterSamples) {
        if let state = states[keyPath: Self.state] { render(state, with: states, into: &samples) }
    }
}

/// Logs a check's failures when they change only, so a cluster that is down for a day writes
/// two lines, not thousands.
func logTransition(_ logger: Logger, cluster: String, check: String, endpoint: String, from before: CheckFailure?,
                   to after: CheckFailure?) {
    // Most runs change nothing: no metadata is built for them.
    guard after?.code != before?.code else { return }
    var metadata: Logger.Metadata = ["cluster": "\(cluster)", "check": "\(check)", "endpoint": "\(endpoint)"]
    if let after {
        metadata["error_code"] = "\(after.code)"
        metadata["error"] = "\(after.message)"
        logger.warning("check failed", metadata: metadata)
    } else if let before {
        metadata["previous_error_code"] = "\(before.code)"
        logger.info("check succeeds again", metadata: metadata)
    }
}
