import CompressNIO
import NIOCore
import NIOConcurrencyHelpers
import Synchronization

/// A /metrics body in parts sent one after the other: the cluster part and the exporter's own
/// families, so a refresh of the small part never copies the large one.
struct MetricsBody: Sendable {
    let parts: [ByteBuffer]

    var length: Int { parts.reduce(0) { $0 + $1.readableBytes } }

    /// The parts joined, for tests.
    var joined: ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(length)
        for part in parts { out.writeImmutableBuffer(part) }
        return out
    }

    /// One gzip stream over all parts.
    func gzipped() throws -> ByteBuffer {
        let compressor = CompressionAlgorithm.gzip().compressor
        try compressor.startStream()
        // The stream's bound for each part, summed: the output never overflows.
        var out = ByteBuffer()
        out.reserveCapacity(parts.reduce(64) { $0 + compressor.maxSize(from: $1) })
        for (index, part) in parts.enumerated() {
            var input = part
            try input.compressStream(to: &out, with: compressor, flush: index == parts.count - 1 ? .finish : .no)
        }
        try compressor.finishStream()
        return out
    }
}

/// Builds the /metrics body. A scrape that finds nothing changed gets the same bytes as the
/// previous one, plain or gzip, without rendering or compressing anything: the cluster part
/// is assembled again only when a snapshot changed (from each cluster's samples, rendered when
/// its round published them), the exporter's small own families are compared, and the
/// process_* families (read from /proc) are refreshed at most once a second.
final class MetricsPage: Sendable {
    /// How long the process_* values are reused; reading /proc costs more than serving a page.
    static let processRefresh = Duration.seconds(1)

    /// What the cluster part shows: the store's and the rule engine's generations.
    private struct Generation: Equatable {
        var store: UInt64
        var alerts: UInt64
    }

    private struct Page {
        var generation: Generation
        var clusterPart: ByteBuffer
        var ownPart: String
        var processPart: String
        var processReadAt: ContinuousClock.Instant
        /// Tells pages apart, so a gzip body is stored only with the page it was made from.
        var serial: UInt64
        /// The own families, the assembly time and the process families.
        var tail: ByteBuffer
        /// Both parts in one buffer when the cluster part is small: one write per scrape, at a
        /// copy that costs nothing there.
        var joined: ByteBuffer?
        var gzip: ByteBuffer?
        /// Seconds the last assembly of the cluster part took.
        var renderSeconds: Double

        /// Whether this page shows the store at `generation` and these own metrics.
        func shows(generation: Generation, ownPart: String) -> Bool {
            self.generation == generation && self.ownPart == ownPart
        }

        mutating func dropBodies() {
            clusterPart = ByteBuffer()
            joined = nil
            gzip = nil
        }

        var plain: MetricsBody { joined.map { MetricsBody(parts: [$0]) } ?? MetricsBody(parts: [clusterPart, tail]) }
    }

    private let store: SnapshotStore
    /// Whose active alerts are the page's redis_ocsp_alerts family.
    private let rules: RuleEngine?
    private let renderer: ClusterRenderer
    /// Cluster parts below this size are sent joined with the tail.
    private let joinBelow: Int
    /// The exporter's own metric families from other components (notifier, reloader).
    private let selfMetrics: [@Sendable () -> String]
    private let cache = NIOLockedValueBox<Page?>(nil)
    private let refreshing = Atomic(false)

    init(store: SnapshotStore, renderer: ClusterRenderer = ClusterRenderer(), rules: RuleEngine? = nil,
         selfMetrics: [@Sendable () -> String] = [], joinBelow: Int = 1 << 20) {
        self.store = store
        self.joinBelow = joinBelow
        self.renderer = renderer
        self.rules = rules
        self.selfMetrics = selfMetrics
    }

    private var generation: Generation {
        Generation(store: store.generation, alerts: rules?.generation ?? 0)
    }

    /// The uncompressed body.
    func plain() -> MetricsBody { current().plain }

    /// The body compressed with gzip, compressed once per distinct body.
    func gzipped() throws -> MetricsBody {
        let page = current()
        if let gzip = page.gzip { return MetricsBody(parts: [gzip]) }
        let gzip = try page.plain.gzipped()
        cache.withLockedValue { cached in
            if cached?.serial == page.serial { cached?.gzip = gzip }
        }
        return MetricsBody(parts: [gzip])
    }

    /// The body when the cached page still shows the current clusters and own metrics (and,
    /// for gzip, is already compressed); nil when it has to be built, which may take long for
    /// a large fleet. Process values due for a refresh are refreshed in the background and
    /// served from the page before meanwhile, so a crowd of scrapes never waits on /proc.
    func cached(gzip: Bool) -> MetricsBody? {
        guard let page = cache.withLockedValue({ $0 }), page.shows(generation: generation, ownPart: renderOwnPart()) else {
            return nil
        }
        if ContinuousClock.now - page.processReadAt >= Self.processRefresh,
           refreshing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            let compress = page.gzip != nil
            Task.detached {
                // Compressed before it is stored, so gzip scrapes never find the new page without it.
                _ = self.current(compress: compress)
                self.refreshing.store(false, ordering: .releasing)
            }
        }
        return gzip ? page.gzip.map { MetricsBody(parts: [$0]) } : page.plain
    }

    private func current(compress: Bool = false) -> Page {
        let generation = self.generation
        let ownPart = renderOwnPart()
        let now = ContinuousClock.now
        var cached = cache.withLockedValue { $0 }
        if let cached, cached.shows(generation: generation, ownPart: ownPart), now - cached.processReadAt < Self.processRefresh {
            return cached
        }
        var renderSeconds = cached?.renderSeconds ?? 0
        let clusterPart: ByteBuffer
        if let cached, cached.generation == generation {
            clusterPart = cached.clusterPart
        } else {
            // The old cluster part is not shown again: let it go before the new one is made, so a
            // large fleet holds one, not two (a response still sending it keeps its own reference).
            // Its memory is written again when nothing else holds it: already mapped, so a large
            // page costs no page faults.
            let old = cached?.clusterPart ?? ByteBuffer()
            cached?.dropBodies()
            cache.withLockedValue { page in
                if page?.generation != generation { page?.dropBodies() }
            }
            let start = ContinuousClock.now
            let entries = store.read().entries
            let alerts = rules?.renderedAlerts().byCluster ?? [:]
            clusterPart = Self.renderClusters(renderer.render(entries), alerts: entries.map { alerts[$0.snapshot.name] ?? [] }, reusing: consume old)
            renderSeconds = (ContinuousClock.now - start).seconds
        }
        let fresh = cached.map { now - $0.processReadAt < Self.processRefresh } ?? false
        let processPart = fresh ? cached!.processPart : ProcessMetrics.render()
        var renderPart = FamilyWriter()
        renderPart.family("redis_ocsp_exporter_metrics_render_seconds", .gauge, "Seconds the last assembly of the cluster metrics took.",
                          renderSeconds)
        var tail = ByteBuffer()
        tail.writeString(ownPart)
        tail.writeString(renderPart.text)
        tail.writeString(processPart)
        var page = Page(
            generation: generation, clusterPart: clusterPart, ownPart: ownPart, processPart: processPart,
            processReadAt: fresh ? cached!.processReadAt : now, serial: (cached?.serial ?? 0) &+ 1, tail: tail, joined: nil, gzip: nil,
            renderSeconds: renderSeconds
        )
        if clusterPart.readableBytes < joinBelow { page.joined = page.plain.joined }
        if compress { page.gzip = try? page.plain.gzipped() }
        cache.withLockedValue { $0 = page }
        return page
    }

    private static let buildInfo: String = {
        var out = FamilyWriter()
        out.family("redis_ocsp_exporter_build_info", .gauge, "Version of redis-ocsp-exporter; always 1.",
                   [([("version", BuildInfo.version), ("revision", BuildInfo.revision)], 1)])
        return out.text
    }()

    /// The exporter's own small families; rendered on every scrape (a few microseconds) so
    /// that a reload or a notification shows at once.
    private func renderOwnPart() -> String {
        var out = Self.buildInfo
        for render in selfMetrics { out += render() }
        return out
    }

    /// Clusters' samples grouped by family, each family once with its HELP and TYPE; the
    /// alerts family (from the rule engine, one entry per cluster) comes with the others.
    static func renderClusters(_ clusters: [RenderedCluster], alerts: [[UInt8]] = [], reusing buffer: consuming ByteBuffer = ByteBuffer()) -> ByteBuffer {
        var out = consume buffer
        out.clear()
        out.reserveCapacity(clusters.reduce(0) { $0 + $1.bytes.count } + alerts.reduce(0) { $0 + $1.count } + 8192)
        for (position, family) in ClusterFamily.allCases.enumerated() {
            let isAlerts = family == .alerts
            let length = isAlerts ? alerts.reduce(0) { $0 + $1.count } : clusters.reduce(0) { $0 + $1.range(position).count }
            guard length > 0 else { continue }
            out.writeString(Exposition.header(name: family.name, help: family.help, type: family.type))
            if isAlerts {
                for bytes in alerts { out.writeBytes(bytes) }
                continue
            }
            // Copied straight into the buffer: at 10,000 clusters this runs 370,000 times a page.
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                var offset = 0
                for cluster in clusters {
                    let range = cluster.range(position)
                    guard !range.isEmpty else { continue }
                    cluster.bytes.withUnsafeBytes { source in
                        (target.baseAddress! + offset).copyMemory(from: source.baseAddress! + range.lowerBound, byteCount: range.count)
                    }
                    offset += range.count
                }
                return offset
            }
        }
        return out
    }
}
