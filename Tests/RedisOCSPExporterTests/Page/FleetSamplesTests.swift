import NIOCore
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// Whatever changes are folded in (samples that grow or shrink, change in place or stay the
/// same, clusters added and removed), the family buffers are the page a concatenation of every
/// cluster's samples makes afresh.
@Suite(.tags(.unit))
struct FleetSamplesTests {
    /// SplitMix64: a seeded generator, so a failing sequence can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func afresh(_ entries: [SnapshotStore.Entry]) -> [String] {
        let rendered = entries.map { RenderedCluster($0.snapshot) }
        return ClusterFamily.allCases.prefix(FleetSamples.count).enumerated().map { position, family in
            let samples = rendered.flatMap { $0.bytes[$0.range(position)] }
            return samples.isEmpty ? "" : Exposition.header(name: family.name, help: family.help, type: family.type) + String(decoding: samples, as: UTF8.self)
        }
    }

    static func snapshot(_ config: ClusterConfig, _ random: inout SeededGenerator) -> ClusterSnapshot {
        var s = ClusterSnapshot(cluster: config)
        s.polledAt = Double(random.next() % 1000)
        s.supported = random.next() % 2 == 0
        if random.next() % 4 != 0 {
            // Mostly five digits: samples of the same length, written in place.
            let next = Int64(random.next() % 4 == 0 ? random.next() % 1000 : 10000 + random.next() % 90000)
            s.set(OCSPStatus(rawCertStatus: ["GOOD", "REVOKED", "UNKNOWN"][Int(random.next() % 3)],
                             responderURL: random.next() % 2 == 0 ? nil : "http://r\(random.next() % 10)", producedAt: 1, thisUpdate: 2,
                             nextUpdate: next, revocationTime: nil, unparsedDates: [:]), of: OCSPStatusCheck())
        }
        return s
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64]) func foldsMakeThePageAfresh(seed: UInt64) throws {
        var random = SeededGenerator(state: seed)
        let yaml = "clusters:\n" + (0..<12).map { "  - {name: c\($0), url: https://x, test_interval: 1h}\n" }.joined()
        let configs = try ConfigLoader.load(yaml: yaml, source: "t").clusters
        var active = Set(configs.prefix(8).map(\.name))
        let store = SnapshotStore(clusters: configs.filter { active.contains($0.name) })
        var last: [String: ClusterSnapshot] = [:]
        var samples = FleetSamples()
        var kinds = (reordered: 0, unchanged: 0)
        for step in 0..<300 {
            if random.next() % 8 == 0 {
                let name = configs[Int(random.next() % UInt64(configs.count))].name
                active.formSymmetricDifference([name])
                store.setClusters(configs.filter { active.contains($0.name) }, keeping: active)
                kinds.reordered += 1
            }
            for config in configs where active.contains(config.name) && random.next() % 3 == 0 {
                // Sometimes the same samples again, under a new version.
                let republish = random.next() % 4 == 0 && last[config.name] != nil
                if republish { kinds.unchanged += 1 }
                let snapshot = republish ? last[config.name]! : Self.snapshot(config, &random)
                last[config.name] = snapshot
                store.publish(snapshot)
            }
            let entries = store.read().entries
            samples.fold(entries, chunk: Int(random.next() % 3) + 1) { RenderedCluster($0.snapshot) }
            let folded = samples.families.map { String(buffer: $0) }
            #expect(folded == Self.afresh(entries), "seed \(seed), step \(step)")
            if folded != Self.afresh(entries) { return }
        }
        #expect(kinds.reordered > 10 && kinds.unchanged > 10)
    }

    /// A fold renders only the clusters whose stored version changed.
    @Test func aFoldRendersOnlyWhatChanged() throws {
        let configs = try ConfigLoader.load(yaml: "clusters:\n  - {name: a, url: https://x}\n  - {name: b, url: https://x}\n", source: "t").clusters
        let store = SnapshotStore(clusters: configs)
        var samples = FleetSamples()
        var rendered: [String] = []
        func fold() {
            samples.fold(store.read().entries) { entry in
                rendered.append(entry.snapshot.name)
                return RenderedCluster(entry.snapshot)
            }
        }
        fold()
        #expect(rendered == ["a", "b"])
        var random = SeededGenerator(state: 9)
        store.publish(Self.snapshot(configs[1], &random))
        rendered = []
        fold()
        #expect(rendered == ["b"])
        rendered = []
        fold()
        #expect(rendered.isEmpty)
    }
}
