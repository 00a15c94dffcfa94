@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct SnapshotStoreTests {
    func clusters(_ names: String...) throws -> [ClusterConfig] {
        try ConfigLoader.load(yaml: "clusters:\n" + names.map { "  - {name: \($0), url: \"https://\($0)\"}\n" }.joined(), source: "t").clusters
    }

    func touch(_ store: SnapshotStore, _ name: String) {
        _ = store.update(name) { $0.polledAt = ($0.polledAt ?? 0) + 1; return true }
    }

    /// The rule engine evaluates what `takeChanged` returns: each stored cluster once, at its
    /// latest version, and every cluster after a reconfiguration.
    @Test func takeChangedReturnsEachChangedClusterOnceAtItsLatestVersion() throws {
        let store = SnapshotStore(clusters: try clusters("c", "a", "b"))
        #expect(store.takeChanged().map(\.snapshot.name) == ["a", "b", "c"], "a new store: every cluster")
        #expect(store.takeChanged().isEmpty)

        touch(store, "c")
        touch(store, "a")
        touch(store, "c")
        let changed = store.takeChanged()
        #expect(changed.map(\.snapshot.name) == ["a", "c"])
        #expect(changed.map(\.version) == ["a", "c"].map { store.snapshot($0)!.version })
        #expect(changed.last?.snapshot.polledAt == 2)
        #expect(store.takeChanged().isEmpty)

        _ = store.update("b") { _ in false }
        #expect(store.takeChanged().isEmpty, "a change that was not stored")

        store.setClusters(try clusters("a", "d"), keeping: ["a"])
        #expect(store.takeChanged().map(\.snapshot.name) == ["a", "d"])
    }

    /// Entries are shared, not copied: an entry a reader holds stays what it was.
    @Test func anEntryHeldByAReaderKeepsItsSnapshot() throws {
        let store = SnapshotStore(clusters: try clusters("a"))
        let held = store.read().entries[0]
        touch(store, "a")
        #expect(held.snapshot.polledAt == nil)
        #expect(store.read().entries[0].snapshot.polledAt == 1)
    }

    /// Readiness: every configured cluster has a finished REST round. Counted as rounds are
    /// stored, so it follows each store, an update that stores nothing, and reconfigurations.
    @Test func theFirstRoundIsDoneOnceEveryClusterWasPolled() throws {
        let store = SnapshotStore(clusters: try clusters("a", "b"))
        #expect(!store.firstRoundDone)
        touch(store, "a")
        touch(store, "a")
        #expect(!store.firstRoundDone, "one cluster polled twice")
        _ = store.update("b") { _ in false }
        #expect(!store.firstRoundDone, "a change that was not stored")
        touch(store, "b")
        #expect(store.firstRoundDone)

        store.setClusters(try clusters("a", "c"), keeping: ["a"])
        #expect(!store.firstRoundDone, "a cluster added")
        touch(store, "c")
        #expect(store.firstRoundDone)
        store.setClusters(try clusters("a", "c"), keeping: ["a"])
        #expect(!store.firstRoundDone, "c configured anew starts unpolled")
        store.setClusters(try clusters("a"), keeping: ["a"])
        #expect(store.firstRoundDone, "the unpolled cluster removed")
        _ = store.update("a") { $0.polledAt = nil; return true }
        #expect(!store.firstRoundDone)
    }
}
