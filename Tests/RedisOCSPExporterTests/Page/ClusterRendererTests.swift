@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Synchronization
import Testing

@Suite(.tags(.unit))
struct ClusterRendererTests {
    /// A cluster polled five times between two assemblies is rendered twice: as its first
    /// snapshot is stored, and at the fold from the store; the page shows its last snapshot.
    @Test func aClusterStoredAgainBeforeTheFoldIsRenderedOnceMoreAtTheFold() throws {
        let configs = try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: https://x}\n  - {name: b, url: https://y}\n", source: "t").clusters
        let store = SnapshotStore(clusters: configs)
        let renders = Mutex<[String]>([])
        let renderer = ClusterRenderer { snapshot in
            renders.withLock { $0.append(snapshot.name) }
            return RenderedCluster(snapshot)
        }
        let page = MetricsPage(store: store, renderer: renderer)
        func publish(_ config: ClusterConfig, nextUpdate: Int64) {
            var snapshot = ClusterSnapshot(cluster: config)
            snapshot.polledAt = Double(nextUpdate)
            snapshot.set(OCSPStatus(rawCertStatus: "GOOD", responderURL: nil, producedAt: nil, thisUpdate: nil,
                                    nextUpdate: nextUpdate, revocationTime: nil, unparsedDates: [:]), of: OCSPStatusCheck())
            if let entry = store.publish(snapshot) { renderer.update(entry) }
        }
        func text() -> String { String(decoding: page.plain().joined.readableBytesView, as: UTF8.self) }

        for round in 1...5 { publish(configs[0], nextUpdate: Int64(round)) }
        publish(configs[1], nextUpdate: 100)
        #expect(renders.withLock { $0 } == ["a", "b"])
        let first = text()
        #expect(first.contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"a\"} 5\n"))
        #expect(first.contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"b\"} 100\n"))
        #expect(renders.withLock { $0 } == ["a", "b", "a"])

        // After the fold, the next snapshot is rendered as it is stored, and the fold takes that render.
        publish(configs[0], nextUpdate: 6)
        #expect(renders.withLock { $0 } == ["a", "b", "a", "a"])
        #expect(text().contains("redis_ocsp_next_update_timestamp_seconds{cluster=\"a\"} 6\n"))
        #expect(renders.withLock { $0 }.count == 4)
    }
}
