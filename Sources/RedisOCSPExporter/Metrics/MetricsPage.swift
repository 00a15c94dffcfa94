import CompressNIO
import NIOCore
import Synchronization

/// Builds the /metrics body: the cluster families from the store (assembled again only when
/// a snapshot changed) followed by the exporter's own metrics (fresh on every scrape).
public final class MetricsPage: Sendable {
    private let store: SnapshotStore
    /// The exporter's own metric families from other components (notifier, reloader).
    private let selfMetrics: [@Sendable () -> String]
    private let cache = Mutex<(generation: UInt64, body: [UInt8])?>(nil)

    public init(store: SnapshotStore, selfMetrics: [@Sendable () -> String] = []) {
        self.store = store
        self.selfMetrics = selfMetrics
    }

    public func body() -> [UInt8] {
        var body = clusterPart()
        body.append(contentsOf: Exposition.header(
            name: "redis_ocsp_exporter_build_info", help: "Version of redis-ocsp-exporter; always 1.", type: .gauge
        ).utf8)
        var writer = SampleWriter(baseLabels: [])
        writer.sample("redis_ocsp_exporter_build_info", [("version", BuildInfo.version), ("revision", BuildInfo.revision)], 1)
        body.append(contentsOf: writer.bytes)
        for render in selfMetrics { body.append(contentsOf: render().utf8) }
        body.append(contentsOf: ProcessMetrics.render().utf8)
        return body
    }

    public func gzippedBody() throws -> ByteBuffer {
        var buffer = ByteBuffer(bytes: body())
        return try buffer.compress(with: .gzip())
    }

    private func clusterPart() -> [UInt8] {
        let (entries, generation) = store.read()
        if let cached = cache.withLock({ $0 }), cached.generation == generation { return cached.body }
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(0) { $0 + $1.rendered.families.reduce(0) { $0 + $1.count } } + 8192)
        for family in ClusterFamily.allCases {
            let chunks = entries.map { $0.rendered.families[family.rawValue] }
            guard chunks.contains(where: { !$0.isEmpty }) else { continue }
            out.append(contentsOf: Exposition.header(name: family.name, help: family.help, type: family.type).utf8)
            for chunk in chunks { out.append(contentsOf: chunk) }
        }
        cache.withLock { $0 = (generation, out) }
        return out
    }
}
