import NIOConcurrencyHelpers

/// The latest snapshot of every configured cluster, with its rendered samples. Pollers
/// publish, scrapes and pages read; a read never waits on a poll, only on a short lock.
public final class SnapshotStore: Sendable {
    public struct Entry: Sendable {
        public var snapshot: ClusterSnapshot
        /// The cluster's pending and firing alerts, from the rule evaluator.
        public var alerts: [Alert] = []
        public var rendered: RenderedCluster
        /// The store's generation when this entry was stored: tells a publisher whether the
        /// entry changed while it was rendering.
        var version: UInt64 = 0
    }

    private struct State {
        /// Sorted by cluster name, so the output is stable.
        private(set) var entries: [Entry]
        /// Position of each cluster in `entries`, so a publish does not search a large fleet.
        private(set) var index: [String: Int]
        /// Bumped on every publish; lets readers reuse work done for an unchanged store.
        var generation: UInt64 = 0

        init(entries: [Entry]) {
            self.entries = entries
            index = Dictionary(uniqueKeysWithValues: entries.indices.map { (entries[$0].snapshot.name, $0) })
        }

        mutating func replaceAll(_ new: [Entry]) {
            self = State(entries: new)
        }

        mutating func replace(at position: Int, with entry: Entry) {
            entries[position] = entry
        }
    }

    private let state: NIOLockedValueBox<State>

    public init(clusters: [ClusterConfig]) {
        let entries = clusters.sorted { $0.name < $1.name }.map { cluster -> Entry in
            let snapshot = ClusterSnapshot(cluster: cluster)
            return Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot, alerts: []))
        }
        state = NIOLockedValueBox(State(entries: entries))
    }

    /// Makes the store hold exactly `clusters`: entries named in `keeping` stay as they are,
    /// the others start from an empty snapshot, and removed clusters' series disappear.
    public func setClusters(_ clusters: [ClusterConfig], keeping: Set<String>) {
        let fresh = Dictionary(uniqueKeysWithValues: clusters.map { cluster -> (String, Entry) in
            let snapshot = ClusterSnapshot(cluster: cluster)
            return (cluster.name, Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot, alerts: [])))
        })
        state.withLockedValue { s in
            let old = Dictionary(uniqueKeysWithValues: s.entries.map { ($0.snapshot.name, $0) })
            let generation = s.generation &+ 1
            s.replaceAll(clusters.map(\.name).sorted().map { name in
                if keeping.contains(name), let kept = old[name] { return kept }
                var entry = fresh[name]!
                entry.version = generation
                return entry
            })
            s.generation = generation
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
        state.withLockedValue { s in s.index[cluster].map { s.entries[$0] } }
    }

    /// Applies `change` to a cluster's entry and renders the result. The render runs outside
    /// the lock; a publish that raced it in the meantime is applied again on top. Returns the
    /// entry's snapshot as stored.
    @discardableResult
    private func update(_ cluster: String, _ change: (inout Entry) -> Bool) -> ClusterSnapshot? {
        while true {
            guard var entry = state.withLockedValue({ s in s.index[cluster].map { s.entries[$0] } }) else { return nil }
            let version = entry.version
            guard change(&entry) else { return entry.snapshot }
            entry.rendered = RenderedCluster(entry.snapshot, alerts: entry.alerts)
            let stored = state.withLockedValue { s in
                guard let index = s.index[cluster], s.entries[index].version == version else { return false }
                s.generation &+= 1
                entry.version = s.generation
                s.replace(at: index, with: entry)
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
    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    public func read() -> (entries: [Entry], generation: UInt64) {
        state.withLockedValue { ($0.entries, $0.generation) }
    }

    /// True once every cluster has finished at least one poll round.
    public var firstRoundDone: Bool {
        state.withLockedValue { s in s.entries.allSatisfy { $0.snapshot.polledAt != nil } }
    }
}
