import NIOConcurrencyHelpers

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
        bytes.reserveCapacity(samples.families.values.reduce(0) { $0 + $1.count })
        var ends: [UInt32] = []
        ends.reserveCapacity(ClusterFamily.allCases.count)
        for family in ClusterFamily.allCases {
            bytes += samples.families[family] ?? []
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

/// Each cluster's samples, rendered once per stored snapshot: when its round publishes it
/// (`update`, off the scrape path) or, for one not seen yet, when a page needs it. A page after
/// a change only concatenates.
final class ClusterRenderer: Sendable {
    private let cache = NIOLockedValueBox<[String: (version: UInt64, rendered: RenderedCluster)]>([:])

    /// Renders a newly stored snapshot.
    func update(_ entry: SnapshotStore.Entry) {
        let rendered = RenderedCluster(entry.snapshot)
        cache.withLockedValue { cache in
            // A newer version may have been stored while this one rendered.
            if (cache[entry.snapshot.name]?.version ?? 0) < entry.version { cache[entry.snapshot.name] = (entry.version, rendered) }
        }
    }

    /// The entries' samples, in their order; forgets clusters no longer among them.
    func render(_ entries: [SnapshotStore.Entry]) -> [RenderedCluster] {
        // Looked up in place: a copy of the cache would copy every cluster's entry on the next write.
        var rendered = cache.withLockedValue { cache in
            entries.map { entry -> RenderedCluster? in
                cache[entry.snapshot.name].flatMap { $0.version == entry.version ? $0.rendered : nil }
            }
        }
        var fresh: [(String, UInt64, RenderedCluster)] = []
        for index in rendered.indices where rendered[index] == nil {
            let entry = entries[index]
            let made = RenderedCluster(entry.snapshot)
            rendered[index] = made
            fresh.append((entry.snapshot.name, entry.version, made))
        }
        cache.withLockedValue { cache in
            for (name, version, made) in fresh where (cache[name]?.version ?? 0) < version { cache[name] = (version, made) }
            if cache.count > entries.count {
                let names = Set(entries.map(\.snapshot.name))
                cache = cache.filter { names.contains($0.key) }
            }
        }
        return rendered.map { $0! }
    }
}
