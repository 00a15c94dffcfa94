import CompressNIO
import NIOCore
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// Pages built while snapshots are published are always whole: each family once, every
/// cluster's samples complete, and the last page shows the last publish.
@Suite(.tags(.unit))
struct MetricsPageConcurrencyTests {
    /// A snapshot of `config` polled in `round`, whose next update is `round`.
    static func snapshot(_ config: ClusterConfig, _ round: Int) -> ClusterSnapshot {
        var s = ClusterSnapshot(cluster: config)
        s.polledAt = Double(round)
        s.set(OCSPStatus(rawCertStatus: "GOOD", responderURL: nil, producedAt: nil, thisUpdate: nil,
                         nextUpdate: Int64(round), revocationTime: nil, unparsedDates: [:]), of: OCSPStatusCheck())
        return s
    }

    @Test func pagesStayWholeUnderConcurrentPublishes() async throws {
        let yaml = "clusters:\n" + (0..<50).map { "  - {name: c\($0), url: https://x}\n" }.joined()
        let configs = try ConfigLoader.load(yaml: yaml, source: "t").clusters
        let store = SnapshotStore(clusters: configs)
        // Renders are folded in the background from a few waiting on, racing the scrapes.
        let renderer = ClusterRenderer(backlogFloor: 4)
        let page = MetricsPage(store: store, renderer: renderer)
        let rounds = 200
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for round in 1...rounds {
                        for (index, config) in configs.enumerated() where index % 4 == writer {
                            if let entry = store.publish(Self.snapshot(config, round)) { renderer.update(entry) }
                        }
                    }
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<100 {
                        let text = String(decoding: page.plain().joined.readableBytesView, as: UTF8.self)
                        let headers = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
                        #expect(Set(headers).count == headers.count, "a family appears twice")
                        let next = text.split(separator: "\n").filter { $0.hasPrefix("redis_ocsp_next_update_timestamp_seconds{") }
                        #expect(next.count == 0 || next.count == configs.count || next.count <= configs.count)
                        if let gzip = try? page.gzipped() { #expect(gzip.length > 0) }
                    }
                }
            }
        }
        let final = String(decoding: page.plain().joined.readableBytesView, as: UTF8.self)
        for config in configs {
            #expect(final.contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"\(config.name)\"} \(rounds)\n"))
        }
    }

    /// A background fold lets go of the cached page's parts when the page shows less than the
    /// generation it read; a page assembled meanwhile, newer than that, keeps them. Dropping
    /// them served a page without a single cluster sample until the next change.
    @Test func aFoldThatReadAnOlderGenerationKeepsANewerPage() throws {
        let configs = try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: https://x}\n", source: "t").clusters
        let store = SnapshotStore(clusters: configs)
        let renderer = ClusterRenderer()
        let page = MetricsPage(store: store, renderer: renderer)
        func publish(_ round: Int) {
            if let entry = store.publish(Self.snapshot(configs[0], round)) { renderer.update(entry) }
        }
        publish(1)
        let readByTheFold = page.generation
        publish(2)
        _ = page.plain()
        page.dropStaleBodies(readByTheFold)
        let text = String(buffer: page.plain().joined)
        #expect(text.contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"a\"} 2\n"))
    }

    /// A large page goes out in parts, the cluster families as they are held (no copy on each
    /// process refresh); gzip is one stream over all of them, and both read back as the same page.
    @Test func aLargePageIsSentInPartsAndGzipCoversThemAll() throws {
        let configs = try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: https://x}\n", source: "t").clusters
        let store = SnapshotStore(clusters: configs)
        var s = ClusterSnapshot(cluster: configs[0])
        s.polledAt = 1
        s.set(OCSPStatus(rawCertStatus: "GOOD", responderURL: nil, producedAt: 1, thisUpdate: 2, nextUpdate: 3, revocationTime: nil,
                              unparsedDates: [:]), of: OCSPStatusCheck())
        store.publish(s)
        let split = MetricsPage(store: store, joinBelow: 0).plain()
        let joined = MetricsPage(store: store).plain()
        // A part per family with samples, then the exporter's own families.
        #expect(split.parts.count > 2)
        #expect(String(buffer: split.parts.last!).hasPrefix("# HELP redis_ocsp_exporter_build_info "))
        #expect(joined.parts.count == 1)
        let text = String(buffer: split.joined)
        #expect(text.contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"a\"} 3\n"))
        #expect(text.contains("\nprocess_start_time_seconds "))
        var gzip = try split.gzipped()
        // The gzip header's extra flags (byte 8) say 4 only for zlib's fastest level: a page is
        // compressed afresh at nearly every scrape of a large fleet, where level 6 costs three times the CPU.
        #expect(gzip.getInteger(at: gzip.readerIndex + 8, as: UInt8.self) == 4)
        #expect(String(buffer: try gzip.decompress(with: .gzip())) == text)
    }
}
