import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One cluster's samples in exposition format: every family's byte run back to back, in page
/// order, in one array (one allocation per cluster, and no spare capacity, for a fleet of thousands).
struct RenderedCluster: Sendable {
    let bytes: [UInt8]
    /// Where each family's run ends in `bytes`, by position in `ClusterFamily.allCases`.
    private let ends: [UInt32]

    init(_ snapshot: ClusterSnapshot) {
        var samples = ClusterSamples(labels: [("cluster", snapshot.name)] + snapshot.labels.tuples)
        for check in Checks.all { check.render(snapshot.checks, into: &samples) }
        RESTRound.render(snapshot, into: &samples)
        ClientsFailAt.render(snapshot, into: &samples)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(samples.count)
        var ends: [UInt32] = []
        ends.reserveCapacity(ClusterFamily.allCases.count)
        for family in ClusterFamily.allCases {
            bytes += samples[family]
            ends.append(UInt32(bytes.count))
        }
        self.bytes = bytes
        self.ends = ends
    }

    /// The byte range in `bytes` of the family at `position`.
    func range(_ position: Int) -> Range<Int> {
        (position == 0 ? 0 : Int(ends[position - 1]))..<Int(ends[position])
    }
}

extension ClusterFamily {
    /// Every family in page order: each check's, the REST round's, then the rule engine's alerts.
    static let allCases: [ClusterFamily] = Checks.all.flatMap(\.families) + RESTRound.families + ClientsFailAt.families + [.alerts]

    /// Position of each family in `allCases`, by name.
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1.name, $0) })

    var position: Int { Self.index[name]! }
}

/// Each cluster's samples, rendered when its round publishes a snapshot (off the scrape path),
/// then folded into the page's family buffers: when a page is assembled, or in the background
/// once a large part of the fleet waits, so that rendered samples are not held twice for long.
/// A page after a change only splices. A cluster that publishes again before its last render
/// was folded in is rendered once more, at the fold, from the store: one polled more often than
/// the page is assembled costs two renders per assembly, not one per poll.
final class ClusterRenderer: Sendable {
    /// By cluster, the newest version stored since the last fold, and its samples when they
    /// were rendered as it was stored (nil: rendered at the fold).
    private let pending = NIOLockedValueBox<[String: (version: UInt64, rendered: RenderedCluster?)]>([:])
    private let render: @Sendable (ClusterSnapshot) -> RenderedCluster
    private let samples = NIOLockedValueBox(FleetSamples())
    /// Told when the waiting renders are due for a fold; the page sets it.
    private let onBacklog = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)
    private let backlogReported = Atomic(false)
    /// Clusters in the last fold; read where a lock held through a fold would stall a round.
    private let fleet = Atomic(0)
    /// Waiting renders beyond this many clusters (and a share of the fleet) are folded in the background.
    private let backlogFloor: Int

    init(backlogFloor: Int = 256, render: @escaping @Sendable (ClusterSnapshot) -> RenderedCluster = RenderedCluster.init) {
        self.backlogFloor = backlogFloor
        self.render = render
    }

    /// Calls `handler` (once until the next fold) when renders wait for a fold.
    func whenBacklogged(_ handler: @escaping @Sendable () -> Void) {
        onBacklog.withLockedValue { $0 = handler }
    }

    /// Takes a newly stored snapshot: rendered now, unless the cluster's last one still waits for a fold.
    func update(_ entry: SnapshotStore.Entry) {
        let name = entry.snapshot.name
        let again = pending.withLockedValue { $0[name] != nil }
        let rendered = again ? nil : render(entry.snapshot)
        let waiting = pending.withLockedValue { pending in
            // A newer version may have been stored while this one rendered.
            if (pending[name]?.version ?? 0) < entry.version { pending[name] = (entry.version, rendered) }
            return pending.count
        }
        if waiting >= max(backlogFloor, fleet.load(ordering: .relaxed) / 8), !backlogReported.exchange(true, ordering: .acquiringAndReleasing) {
            onBacklog.withLockedValue { $0 }?()
        }
    }

    /// The page's cluster families for `entries`, the store as of `generation` (in their
    /// order), with every waiting render folded in: see `fold`.
    func families(_ entries: [SnapshotStore.Entry], generation: UInt64) -> [ByteBuffer] {
        samples.withLockedValue { samples in
            fold(&samples, entries, generation: generation)
            return samples.families
        }
    }

    /// Folds every waiting render into the families and hands nothing back: a copy of them
    /// held past the lock (as a returned array can be, until its holder lets go) would make
    /// the next fold copy each buffer it splices instead of writing it in place.
    func fold(_ entries: [SnapshotStore.Entry], generation: UInt64) {
        samples.withLockedValue { fold(&$0, entries, generation: generation) }
    }

    /// Clusters not rendered yet are rendered now, and those no longer among the entries are gone.
    private func fold(_ samples: inout FleetSamples, _ entries: [SnapshotStore.Entry], generation: UInt64) {
        backlogReported.store(false, ordering: .releasing)
        let taken = pending.withLockedValue { $0 }
        samples.fold(entries) { entry in
            taken[entry.snapshot.name].flatMap { $0.version == entry.version ? $0.rendered : nil } ?? render(entry.snapshot)
        }
        // Versions are the store's generations: a render up to `generation` is shown now,
        // older than what is shown, or of a removed cluster. Only later ones still wait.
        pending.withLockedValue { pending in pending = pending.filter { $0.value.version > generation } }
        fleet.store(entries.count, ordering: .relaxed)
    }
}
