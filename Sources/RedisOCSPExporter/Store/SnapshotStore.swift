import NIOConcurrencyHelpers

/// The latest snapshot of every configured cluster, and nothing else. Check rounds publish;
/// the renderer, the rule engine and the pages read. A read never waits on a round, only on
/// a short lock.
final class SnapshotStore: Sendable {
    /// One stored snapshot, immutable and shared: copying an entry (or the array of all of
    /// them, which a publish does while a reader holds it) costs one reference count, not one
    /// per field of every check's state.
    struct Entry: Sendable {
        private final class Box: Sendable {
            let snapshot: ClusterSnapshot
            init(_ snapshot: ClusterSnapshot) { self.snapshot = snapshot }
        }
        private let box: Box

        var snapshot: ClusterSnapshot { _read { yield box.snapshot } }
        /// The store's generation when this entry was stored: the renderer's cache key.
        var version: UInt64 { box.snapshot.version }

        init(snapshot: ClusterSnapshot, version: UInt64) {
            var snapshot = snapshot
            snapshot.version = version
            box = Box(snapshot)
        }
    }

    private struct State {
        /// Sorted by cluster name, so the output is stable.
        var entries: [Entry]
        /// Position of each cluster in `entries`, so a publish does not search a large fleet.
        var index: [String: Int]
        /// Bumped on every change; lets readers reuse work done for an unchanged store.
        var generation: UInt64 = 0
        /// Numbers each configuration a cluster is checked with.
        var epochs: UInt64 = 0
        /// Positions stored since the rule engine last took them; all after a reconfiguration.
        var changed: Set<Int> = []
        var allChanged = true
        /// Entries without a finished REST round, counted so readiness costs no pass over the fleet.
        var unpolled: Int

        init(entries: [Entry]) {
            self.entries = entries
            unpolled = entries.count { $0.snapshot.polledAt == nil }
            index = Dictionary(uniqueKeysWithValues: entries.indices.map { (entries[$0].snapshot.name, $0) })
        }
    }

    private let state: NIOLockedValueBox<State>
    /// Told of every change (coalesced); the rule engine is its one reader, and takes what
    /// changed with `takeChanged()`.
    let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    init(clusters: [ClusterConfig]) {
        state = NIOLockedValueBox(State(entries: []))
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        setClusters(clusters, keeping: [])
    }

    /// Makes the store hold exactly `clusters`: entries named in `keeping` stay as they are,
    /// the others start from an empty snapshot, and removed clusters' series disappear.
    /// Returns each cluster's epoch: results of rounds for another epoch are not stored.
    @discardableResult
    func setClusters(_ clusters: [ClusterConfig], keeping: Set<String>) -> [String: UInt64] {
        state.withLockedValue { s in
            let old = Dictionary(uniqueKeysWithValues: s.entries.map { ($0.snapshot.name, $0) })
            s.generation &+= 1
            let entries = clusters.sorted { $0.name < $1.name }.map { cluster -> Entry in
                if keeping.contains(cluster.name), let kept = old[cluster.name] { return kept }
                s.epochs &+= 1
                var snapshot = ClusterSnapshot(cluster: cluster)
                snapshot.epoch = s.epochs
                return Entry(snapshot: snapshot, version: s.generation)
            }
            let (generation, epochs) = (s.generation, s.epochs)
            s = State(entries: entries)
            (s.generation, s.epochs) = (generation, epochs)
            changed.yield()
            return Dictionary(uniqueKeysWithValues: entries.map { ($0.snapshot.name, $0.snapshot.epoch) })
        }
    }

    func snapshot(_ cluster: String) -> ClusterSnapshot? {
        state.withLockedValue { s in s.index[cluster].map { s.entries[$0].snapshot } }
    }

    /// Applies a round's outcome to the cluster's snapshot of `epoch`. Returns the new entry,
    /// or nil when the cluster is gone or was configured anew meanwhile.
    func apply(_ outcome: CheckRound.Outcome, cluster: String, epoch: UInt64) -> Entry? {
        update(cluster) { snapshot in
            guard snapshot.epoch == epoch else { return false }
            snapshot.apply(outcome)
            return true
        }
    }

    /// Changes a cluster's snapshot with `change` under the lock and stores it as a new
    /// version, unless `change` returns false.
    func update(_ cluster: String, _ change: (inout ClusterSnapshot) -> Bool) -> Entry? {
        state.withLockedValue { s in
            guard let position = s.index[cluster] else { return nil }
            var snapshot = s.entries[position].snapshot
            let wasPolled = snapshot.polledAt != nil
            guard change(&snapshot) else { return nil }
            s.unpolled += (wasPolled ? 1 : 0) - (snapshot.polledAt != nil ? 1 : 0)
            s.generation &+= 1
            s.entries[position] = Entry(snapshot: snapshot, version: s.generation)
            s.changed.insert(position)
            changed.yield()
            return s.entries[position]
        }
    }

    /// Changes whenever anything in the store does.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    func read() -> (entries: [Entry], generation: UInt64) {
        state.withLockedValue { ($0.entries, $0.generation) }
    }

    /// The entries stored since the last call, in name order: all of them after a
    /// reconfiguration. A change in a large fleet thus costs its own evaluation, not a pass
    /// over every cluster.
    func takeChanged() -> [Entry] {
        state.withLockedValue { s in
            defer { (s.changed, s.allChanged) = ([], false) }
            return s.allChanged ? s.entries : s.changed.sorted().map { s.entries[$0] }
        }
    }

    /// True once every cluster has finished at least one REST round.
    var firstRoundDone: Bool {
        state.withLockedValue { $0.unpolled == 0 }
    }
}
