import Synchronization

/// The latest snapshot of every configured cluster, with its rendered samples. Pollers
/// publish, scrapes and pages read; a read never waits on a poll, only on a short lock.
public final class SnapshotStore: Sendable {
    public struct Entry: Sendable {
        public var snapshot: ClusterSnapshot
        /// The cluster's pending and firing alerts, from the rule evaluator.
        public var alerts: [Alert] = []
        public var rendered: RenderedCluster
    }

    private struct State {
        /// Sorted by cluster name, so the output is stable.
        var entries: [Entry]
        /// Bumped on every publish; lets readers reuse work done for an unchanged store.
        var generation: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(clusters: [ClusterConfig]) {
        let entries = clusters.sorted { $0.name < $1.name }.map { cluster -> Entry in
            let snapshot = ClusterSnapshot(cluster: cluster)
            return Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot, alerts: []))
        }
        state = Mutex(State(entries: entries))
    }

    /// Makes the store hold exactly `clusters`: entries named in `keeping` stay as they are,
    /// the others start from an empty snapshot, and removed clusters' series disappear.
    public func setClusters(_ clusters: [ClusterConfig], keeping: Set<String>) {
        let fresh = Dictionary(uniqueKeysWithValues: clusters.map { cluster -> (String, Entry) in
            let snapshot = ClusterSnapshot(cluster: cluster)
            return (cluster.name, Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot, alerts: [])))
        })
        state.withLock { s in
            let old = Dictionary(uniqueKeysWithValues: s.entries.map { ($0.snapshot.name, $0) })
            s.entries = clusters.map(\.name).sorted().map { name in
                keeping.contains(name) ? old[name] ?? fresh[name]! : fresh[name]!
            }
            s.generation &+= 1
        }
    }

    /// Replaces what the REST API poll produced; the stapling probe's part stays. Returns the
    /// cluster's whole new snapshot, or nil for a cluster no longer configured.
    @discardableResult
    public func publish(_ snapshot: ClusterSnapshot) -> ClusterSnapshot? {
        modify(snapshot.name) { entry in
            let stapling = entry.snapshot.stapling
            entry.snapshot = snapshot
            entry.snapshot.stapling = stapling
        }
    }

    /// Replaces the stapling probe's results; returns the cluster's whole new snapshot.
    @discardableResult
    public func publish(stapling: [StaplingProbeState], cluster: String) -> ClusterSnapshot? {
        modify(cluster) { $0.snapshot.stapling = stapling }
    }

    /// Replaces a cluster's active alerts, when they changed.
    public func publish(alerts: [Alert], cluster: String) {
        update(cluster) { entry in
            guard entry.alerts != alerts else { return false }
            entry.alerts = alerts
            return true
        }
    }

    public func entry(_ cluster: String) -> Entry? {
        state.withLock { $0.entries.first { $0.snapshot.name == cluster } }
    }

    /// Applies `change` to a cluster's entry and renders the result. The render runs outside
    /// the lock; a publish that raced it in the meantime is applied again on top. Returns the
    /// entry's snapshot as stored.
    @discardableResult
    private func update(_ cluster: String, _ change: (inout Entry) -> Bool) -> ClusterSnapshot? {
        while true {
            guard var (entry, generation) = state.withLock({ s in
                s.entries.first { $0.snapshot.name == cluster }.map { ($0, s.generation) }
            }) else { return nil }
            guard change(&entry) else { return entry.snapshot }
            entry.rendered = RenderedCluster(entry.snapshot, alerts: entry.alerts)
            let stored = state.withLock { s in
                guard s.generation == generation, let index = s.entries.firstIndex(where: { $0.snapshot.name == cluster }) else { return false }
                s.entries[index] = entry
                s.generation &+= 1
                return true
            }
            if stored { return entry.snapshot }
        }
    }

    private func modify(_ cluster: String, _ change: (inout Entry) -> Void) -> ClusterSnapshot? {
        update(cluster) { (entry: inout Entry) -> Bool in
            change(&entry)
            return true
        }
    }

    /// Changes whenever anything in the store does.
    public var generation: UInt64 { state.withLock { $0.generation } }

    public func read() -> (entries: [Entry], generation: UInt64) {
        state.withLock { ($0.entries, $0.generation) }
    }

    /// True once every cluster has finished at least one poll round.
    public var firstRoundDone: Bool {
        state.withLock { s in s.entries.allSatisfy { $0.snapshot.polledAt != nil } }
    }
}
