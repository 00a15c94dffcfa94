import Synchronization

/// The latest snapshot of every configured cluster, with its rendered samples. Pollers
/// publish, scrapes and pages read; a read never waits on a poll, only on a short lock.
public final class SnapshotStore: Sendable {
    public struct Entry: Sendable {
        public var snapshot: ClusterSnapshot
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
            return Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot))
        }
        state = Mutex(State(entries: entries))
    }

    /// Replaces a cluster's snapshot; rendering happens here, outside the lock.
    public func publish(_ snapshot: ClusterSnapshot) {
        let entry = Entry(snapshot: snapshot, rendered: RenderedCluster(snapshot))
        state.withLock { s in
            guard let index = s.entries.firstIndex(where: { $0.snapshot.name == snapshot.name }) else { return }
            s.entries[index] = entry
            s.generation &+= 1
        }
    }

    public func read() -> (entries: [Entry], generation: UInt64) {
        state.withLock { ($0.entries, $0.generation) }
    }

    /// True once every cluster has finished at least one poll round.
    public var firstRoundDone: Bool {
        state.withLock { s in s.entries.allSatisfy { $0.snapshot.polledAt != nil } }
    }
}
