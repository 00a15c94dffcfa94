import Logging

/// One signal source: what it asks a cluster, what it keeps of the answer, and how that
/// becomes samples. Each check is one type in one file of this folder and one line in
/// `Checks.all`; the scheduler, /probe, the snapshot and the renderer reach it only through
/// this protocol.
protocol Check: Sendable {
    /// What the check keeps per cluster between runs: its latest result and its counters.
    associatedtype State: Sendable
    /// Names its state in a snapshot; the `endpoint` label of the REST checks.
    var id: String { get }
    /// Its metric families, in page order.
    var families: [ClusterFamily] { get }
    /// When it runs for `cluster`; nil when that cluster does not use it.
    func schedule(for cluster: ClusterConfig) -> CheckSchedule?
    /// The state before the first run.
    func initialState(for cluster: ClusterConfig) -> State
    /// Runs once against the cluster within the context's timeouts and returns the next
    /// state, counters carried on from `previous`. Throws only when cancelled.
    func run(_ context: CheckContext, previous: State) async throws -> State
    /// Writes the state's samples into the cluster's families.
    func render(_ state: State, into samples: inout ClusterSamples)
}

/// When a check runs.
enum CheckSchedule: Sendable, Equatable {
    /// In the cluster's REST round, over its one kept-alive connection and within one slot
    /// of the bound on work in flight; with `every`, at most that often (the round's first
    /// run included).
    case restRound(every: Duration?)
    /// On its own, every `interval`.
    case own(interval: Duration)
}

/// What a check runs with.
struct CheckContext: Sendable {
    let cluster: ClusterConfig
    let client: ClusterClient
    let logger: Logger
    /// Wall-clock time in Unix seconds; injectable so tests can control it.
    let now: @Sendable () -> Double
}

/// Every signal source, in page order. A new check is a new file in this folder and one
/// line here.
enum Checks {
    static let all: [any Check] = [
        OCSPConfigCheck(),
        OCSPStatusCheck(),
        NodesCheck(),
        OCSPTestCheck(),
        ClusterAlertsCheck(),
        StaplingCheck(),
    ]
}

extension Check {
    /// The state before the first run, type-erased for the snapshot.
    func initialAnyState(for cluster: ClusterConfig) -> any Sendable { initialState(for: cluster) }

    /// Runs on a snapshot's state of this check (or the initial one) and returns the next.
    func runAny(_ context: CheckContext, previous: (any Sendable)?) async throws -> any Sendable {
        try await run(context, previous: previous as? State ?? initialState(for: context.cluster))
    }

    func renderAny(_ state: any Sendable, into samples: inout ClusterSamples) {
        if let state = state as? State { render(state, into: &samples) }
    }
}

/// Logs a check's failures when they change only, so a cluster that is down for a day writes
/// two lines, not thousands.
func logTransition(_ logger: Logger, cluster: String, check: String, endpoint: String, from before: CheckFailure?,
                   to after: CheckFailure?) {
    var metadata: Logger.Metadata = ["cluster": "\(cluster)", "check": "\(check)", "endpoint": "\(endpoint)"]
    if let after, after.code != before?.code {
        metadata["error_code"] = "\(after.code)"
        metadata["error"] = "\(after.message)"
        logger.warning("check failed", metadata: metadata)
    } else if after == nil, let before {
        metadata["previous_error_code"] = "\(before.code)"
        logger.info("check succeeds again", metadata: metadata)
    }
}
