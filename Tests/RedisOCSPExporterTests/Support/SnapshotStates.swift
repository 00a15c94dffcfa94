@testable import RedisOCSPExporter
import RedisSoftwareAPI

/// Test-only ways to put a snapshot in a state, as rounds would have left it.
extension ClusterSnapshot {
    /// A REST check's latest answer (nil: its request failed); nothing where the cluster does not run it.
    mutating func set<C: RESTCheck>(_ value: C.Value?, of check: C) {
        update(check) { $0.value = value }
    }

    /// Records a request on every REST check the cluster runs; `fetch` gives each endpoint's.
    mutating func recordEndpoints(at now: Double, _ fetch: (String) -> Fetch<Int>) {
        for case let check as any RESTCheck in Checks.all { record(check, fetch(check.id), at: now) }
    }

    private mutating func record<C: RESTCheck>(_ check: C, _ fetch: Fetch<Int>, at now: Double) {
        update(check) { $0.health.record(fetch, at: now) }
    }

    private mutating func update<C: RESTCheck>(_ check: C, _ change: (inout RESTState<C.Value>) -> Void) {
        guard var state = checks[keyPath: C.state] else { return }
        change(&state)
        checks[keyPath: C.state] = state
    }
}

extension SnapshotStore {
    /// Replaces a cluster's snapshot with one a test made.
    @discardableResult
    func publish(_ snapshot: ClusterSnapshot) -> Entry? {
        update(snapshot.name) { stored in
            let epoch = stored.epoch
            stored = snapshot
            stored.epoch = epoch
            return true
        }
    }
}
