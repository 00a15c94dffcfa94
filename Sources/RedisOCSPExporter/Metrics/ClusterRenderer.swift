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

/// Renders each cluster once per stored snapshot and keeps the bytes, so a scrape after a
/// change renders the changed clusters only and otherwise concatenates.
final class ClusterRenderer: Sendable {
    private let cache = NIOLockedValueBox<[String: (version: UInt64, rendered: RenderedCluster)]>([:])

    /// The entries' samples, in their order; forgets clusters no longer among them.
    func render(_ entries: [SnapshotStore.Entry]) -> [RenderedCluster] {
        let cached = cache.withLockedValue { $0 }
        var next: [String: (version: UInt64, rendered: RenderedCluster)] = [:]
        next.reserveCapacity(entries.count)
        let rendered = entries.map { entry -> RenderedCluster in
            let name = entry.snapshot.name
            if let hit = cached[name], hit.version == entry.version {
                next[name] = hit
                return hit.rendered
            }
            let fresh = RenderedCluster(entry.snapshot)
            next[name] = (entry.version, fresh)
            return fresh
        }
        cache.withLockedValue { $0 = next }
        return rendered
    }
}
