import NIOConcurrencyHelpers

/// One cluster's samples in exposition format, one byte run per `ClusterFamily`.
struct RenderedCluster: Sendable {
    var families: [[UInt8]]

    init(_ snapshot: ClusterSnapshot) {
        var samples = ClusterSamples(labels: [("cluster", snapshot.name)] + snapshot.labels.tuples)
        for check in Checks.all {
            if let state = snapshot.anyState(check.id) { check.renderAny(state, into: &samples) }
        }
        RESTRound.render(snapshot, into: &samples)
        families = samples.families
    }
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
        let cached = cache.withLockedValue { $0 }
        var fresh: [(String, UInt64, RenderedCluster)] = []
        let rendered = entries.map { entry -> RenderedCluster in
            if let hit = cached[entry.snapshot.name], hit.version == entry.version { return hit.rendered }
            let made = RenderedCluster(entry.snapshot)
            fresh.append((entry.snapshot.name, entry.version, made))
            return made
        }
        cache.withLockedValue { cache in
            for (name, version, made) in fresh where (cache[name]?.version ?? 0) < version { cache[name] = (version, made) }
            if cache.count > entries.count {
                let names = Set(entries.map(\.snapshot.name))
                cache = cache.filter { names.contains($0.key) }
            }
        }
        return rendered
    }
}
