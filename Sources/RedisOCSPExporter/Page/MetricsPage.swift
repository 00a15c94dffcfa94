import CompressNIO
import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
import Synchronization

/// A /metrics body in parts sent one after the other: the cluster families, each in the buffer
/// it is held in, and the exporter's own families, so a refresh of the small part never copies
/// the large ones.
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

    /// One gzip stream over all parts, at zlib's fastest level (as nginx's default): a large
    /// fleet's page changes between scrapes and is compressed at nearly each one, and level 6
    /// took three times the CPU for a body 17% smaller.
    func gzipped() throws -> ByteBuffer {
        let compressor = CompressionAlgorithm.gzip(configuration: .init(compressionLevel: 1)).compressor
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
/// previous one, plain or gzip, without rendering or compressing anything: the cluster
/// families are assembled again only when a snapshot changed (the renderer splices in the
/// samples each round rendered when it published them), the exporter's small own families
/// only when their sources' versions moved, and the process_* families (read from /proc) are
/// refreshed at most once a second.
final class MetricsPage: Sendable {
    /// How long the process_* values are reused; reading /proc costs more than serving a page.
    static let processRefresh = Duration.seconds(1)

    /// What the cluster part shows: the store's and the rule engine's generations.
    struct Generation: Equatable {
        var store: UInt64
        var alerts: UInt64

        /// Whether `self` shows less than `other`: both only ever grow.
        func isBehind(_ other: Generation) -> Bool { store < other.store || alerts < other.alerts }
    }

    private struct Page {
        var generation: Generation
        /// The cluster families, alerts last; only those with samples.
        var clusterParts: [ByteBuffer]
        var ownPart: String
        /// The sum of the own sources' versions when `ownPart` was rendered.
        var ownVersion: UInt64
        var processPart: String
        var processReadAt: ContinuousClock.Instant
        /// Tells pages apart, so a gzip body is stored only with the page it was made from.
        var serial: UInt64
        /// The own families, the assembly time and the process families.
        var tail: ByteBuffer
        /// All parts in one buffer when the cluster families are small: one write per scrape, at a
        /// copy that costs nothing there.
        var joined: ByteBuffer?
        var gzip: ByteBuffer?
        /// Seconds the last assembly of the cluster part took.
        var renderSeconds: Double

        /// Whether this page shows the store at `generation` and the own sources at `ownVersion`.
        func shows(generation: Generation, ownVersion: UInt64) -> Bool {
            self.generation == generation && self.ownVersion == ownVersion
        }

        mutating func dropBodies() {
            clusterParts = []
            joined = nil
            gzip = nil
        }

        var plain: MetricsBody { joined.map { MetricsBody(parts: [$0]) } ?? MetricsBody(parts: clusterParts + [tail]) }
    }

    private let store: SnapshotStore
    /// Whose active alerts are the page's redis_ocsp_alerts family.
    private let rules: RuleEngine?
    private let renderer: ClusterRenderer
    /// Cluster parts below this size are sent joined with the tail.
    private let joinBelow: Int
    /// The components with metric families of their own (notifier, reloader, web configuration).
    private let ownSources: [any OwnMetricsSource]
    private let cache = NIOLockedValueBox<Page?>(nil)
    private let refreshing = Atomic(false)

    init(store: SnapshotStore, renderer: ClusterRenderer = ClusterRenderer(), rules: RuleEngine? = nil,
         ownSources: [any OwnMetricsSource] = [], joinBelow: Int = 1 << 20) {
        self.store = store
        self.joinBelow = joinBelow
        self.renderer = renderer
        self.rules = rules
        self.ownSources = ownSources
        renderer.whenBacklogged { [weak self] in
            guard let page = self else { return }
            _ = NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) { page.foldBacklog() }
        }
    }

    /// Folds waiting renders into the cluster families between scrapes, on the thread pool.
    /// The cached page no longer shows the store, so its parts are let go first: the families
    /// are then written in place instead of copied.
    private func foldBacklog() {
        dropStaleBodies(generation)
        let stored = store.read()
        renderer.fold(stored.entries, generation: stored.generation)
        // The renders it took and the buffers it replaced leave holes in the heap. Here, on
        // the thread pool, not after an assembly: a trim would slow the scrapes that follow.
        Heap.releaseFreePages()
    }

    /// Lets go of the cached page's parts when it shows less than `generation`: they are not
    /// shown again, and the families are then written in place (a response still sending them
    /// keeps its own reference). A page assembled after `generation` was read shows more, and
    /// stays whole.
    func dropStaleBodies(_ generation: Generation) {
        cache.withLockedValue { page in
            if let shown = page?.generation, shown.isBehind(generation) { page?.dropBodies() }
        }
    }

    var generation: Generation {
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
        guard let page = cache.withLockedValue({ $0 }), page.shows(generation: generation, ownVersion: ownVersion) else {
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
        // Read before rendering: a change meanwhile shows now and renders again next time.
        let ownVersion = self.ownVersion
        let now = ContinuousClock.now
        var cached = cache.withLockedValue { $0 }
        if let cached, cached.shows(generation: generation, ownVersion: ownVersion), now - cached.processReadAt < Self.processRefresh {
            return cached
        }
        let ownPart = cached.flatMap { $0.ownVersion == ownVersion ? $0.ownPart : nil } ?? renderOwnPart()
        var renderSeconds = cached?.renderSeconds ?? 0
        let clusterParts: [ByteBuffer]
        if let cached, cached.generation == generation {
            clusterParts = cached.clusterParts
        } else {
            cached?.dropBodies()
            dropStaleBodies(generation)
            let start = ContinuousClock.now
            let stored = store.read()
            let entries = stored.entries
            let alerts = Self.alertsPart(entries, alerts: rules?.renderedAlerts().byCluster ?? [:])
            clusterParts = renderer.families(entries, generation: stored.generation).filter { $0.readableBytes > 0 } + (alerts.readableBytes > 0 ? [alerts] : [])
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
            generation: generation, clusterParts: clusterParts, ownPart: ownPart, ownVersion: ownVersion, processPart: processPart,
            processReadAt: fresh ? cached!.processReadAt : now, serial: (cached?.serial ?? 0) &+ 1, tail: tail, joined: nil, gzip: nil,
            renderSeconds: renderSeconds
        )
        if clusterParts.reduce(0, { $0 + $1.readableBytes }) < joinBelow { page.joined = page.plain.joined }
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

    /// Moves whenever one of the own sources changed, so a reload or a notification shows at once.
    private var ownVersion: UInt64 { ownSources.reduce(0) { $0 &+ $1.metricsVersion } }

    private func renderOwnPart() -> String {
        var out = Self.buildInfo
        for source in ownSources { out += source.renderMetrics() }
        return out
    }

    /// The rule engine's alerts family: each cluster's active alerts, in the entries' order.
    private static func alertsPart(_ entries: [SnapshotStore.Entry], alerts: [String: [UInt8]]) -> ByteBuffer {
        var out = ByteBuffer()
        for entry in entries {
            guard let bytes = alerts[entry.snapshot.name], !bytes.isEmpty else { continue }
            if out.readableBytes == 0 {
                out.writeString(Exposition.header(name: ClusterFamily.alerts.name, help: ClusterFamily.alerts.help, type: ClusterFamily.alerts.type))
            }
            out.writeBytes(bytes)
        }
        return out
    }

    /// One cluster's page, for /probe.
    static func body(of snapshot: ClusterSnapshot) -> MetricsBody {
        var samples = FleetSamples()
        samples.fold([SnapshotStore.Entry(snapshot: snapshot, version: 1)]) { RenderedCluster($0.snapshot) }
        return MetricsBody(parts: samples.families.filter { $0.readableBytes > 0 })
    }
}
