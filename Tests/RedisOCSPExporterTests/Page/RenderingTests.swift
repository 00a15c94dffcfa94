@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Synchronization
import Testing

@Suite(.tags(.unit))
struct RenderingTests {
    func cluster(_ name: String, labels: [(String, String)] = [], test: Bool = false) throws -> ClusterConfig {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var yaml = "clusters:\n  - name: \(quoted(name))\n    url: https://x\n"
        if test { yaml += "    test_interval: 1h\n" }
        if !labels.isEmpty { yaml += "    labels: {\(labels.map { "\($0): \(quoted($1))" }.joined(separator: ", "))}\n" }
        return try ConfigLoader.load(yaml: yaml, source: "t").clusters[0]
    }

    func page(_ snapshots: [ClusterSnapshot], configs: [ClusterConfig]) -> String {
        let store = SnapshotStore(clusters: configs)
        for snapshot in snapshots { store.publish(snapshot) }
        return String(decoding: MetricsPage(store: store).plain().joined.readableBytesView, as: UTF8.self)
    }

    @Test func beforeTheFirstPollOnlyExporterMetricsAreServed() throws {
        let config = try cluster("a")
        let text = page([], configs: [config])
        #expect(!text.contains("cluster=\"a\""))
        #expect(text.contains("redis_ocsp_exporter_build_info{version=\""))
        #expect(text.contains("\nprocess_resident_memory_bytes "))
        #expect(text.contains("\nprocess_start_time_seconds "))
        #expect(text.contains("\nprocess_open_fds "))
    }

    @Test func clusterNamesAndStaticLabelsAreEscaped() throws {
        let config = try cluster("we\"ird\\name", labels: [("team", "a\\b"), ("region", "us \"east\"")])
        var snapshot = ClusterSnapshot(cluster: config)
        snapshot.polledAt = 1
        snapshot.set(OCSPConfig(enabled: true, responderURL: "http://r/\"x\"", queryFrequency: 60,
                                     responseTimeout: nil, recoveryFrequency: nil, recoveryMaxTries: nil), of: OCSPConfigCheck())
        let text = page([snapshot], configs: [config])
        #expect(text.contains(#"redis_ocsp_enabled{cluster="we\"ird\\name",region="us \"east\"",team="a\\b"} 1"#))
        #expect(text.contains(#"responder_url="http://r/\"x\""} 1"#))
        // Fields the API left out leave their series out.
        #expect(!text.contains("redis_ocsp_response_timeout_seconds{"))
        #expect(!text.contains("# HELP redis_ocsp_response_timeout_seconds"))
        #expect(text.contains("redis_ocsp_query_frequency_seconds{"))
    }

    @Test func eachFamilyAppearsOnceWithItsSamplesTogether() throws {
        let configs = try ["b", "a", "c"].map { try cluster($0, test: true) }
        var snapshots: [ClusterSnapshot] = []
        for config in configs {
            var s = ClusterSnapshot(cluster: config)
            s.polledAt = 10
            s.set(OCSPStatus(rawCertStatus: "GOOD", responderURL: nil, producedAt: 1, thisUpdate: 2, nextUpdate: 3,
                                  revocationTime: nil, unparsedDates: [:]), of: OCSPStatusCheck())
            s.recordEndpoints(at: 10) { _ in Fetch<Int>(result: .failure(CheckFailure(code: "timeout", message: "")), duration: 0.2) }
            snapshots.append(s)
        }
        let text = page(snapshots, configs: configs)
        let parsed = try ParsedExposition(text)
        var seenFamilies: [String] = []
        var current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                current = String(line.dropFirst(7).split(separator: " ")[0])
                #expect(!seenFamilies.contains(current), "family \(current) appears twice")
                seenFamilies.append(current)
            } else if !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                #expect(name == current || name.hasPrefix(current + "_") && parsed.types[current] == "histogram", "\(name) outside \(current)")
            }
        }
        // Clusters are in name order within a family.
        let order = text.split(separator: "\n").filter { $0.hasPrefix("redis_ocsp_produced_at") }.map { $0.split(separator: "\"")[1] }
        #expect(order == ["a", "b", "c"])
        #expect(parsed.samples[.init(name: "redis_ocsp_api_error", labels: ["cluster": "a", "endpoint": "test", "error_code": "timeout"])] == 1)
        #expect(parsed.samples[.init(name: "redis_ocsp_api_up", labels: ["cluster": "a", "endpoint": "test"])] == 0)
        #expect(parsed.types["redis_ocsp_api_errors_total"] == "counter")
        #expect(parsed.types["redis_ocsp_api_request_duration_seconds"] == "histogram")
    }

    @Test func stateSetAndRevocation() throws {
        let config = try cluster("a")
        var s = ClusterSnapshot(cluster: config)
        s.polledAt = 1
        s.set(OCSPStatus(rawCertStatus: "SOMETHING_ELSE", responderURL: nil, producedAt: nil, thisUpdate: nil,
                              nextUpdate: nil, revocationTime: 42, unparsedDates: [:]), of: OCSPStatusCheck())
        let parsed = try ParsedExposition(page([s], configs: [config]))
        func status(_ v: String) -> Double? { parsed.samples[.init(name: "redis_ocsp_cert_status", labels: ["cluster": "a", "status": v])] }
        #expect(status("GOOD") == 0)
        #expect(status("REVOKED") == 0)
        #expect(status("UNKNOWN") == 1)
        #expect(parsed.samples.keys.filter { $0.name == "redis_ocsp_cert_status" }.count == 3)
        #expect(parsed.samples[.init(name: "redis_ocsp_revocation_timestamp_seconds", labels: ["cluster": "a"])] == 42)
        #expect(!parsed.samples.keys.contains { $0.name == "redis_ocsp_next_update_timestamp_seconds" })
    }

    @Test func unchangedStoreReusesTheAssembledBody() throws {
        let config = try cluster("a")
        let store = SnapshotStore(clusters: [config])
        let page = MetricsPage(store: store)
        var s = ClusterSnapshot(cluster: config)
        s.polledAt = 1
        s.supported = true
        store.publish(s)
        #expect(String(decoding: page.plain().joined.readableBytesView, as: UTF8.self).contains("redis_ocsp_supported{cluster=\"a\"} 1"))
        s.supported = false
        store.publish(s)
        #expect(String(decoding: page.plain().joined.readableBytesView, as: UTF8.self).contains("redis_ocsp_supported{cluster=\"a\"} 0"))
    }

    /// A component's own family, counting how often it is rendered.
    final class CountedSource: OwnMetricsSource {
        let value = VersionedBox(0)
        let renders = Atomic(0)
        var metricsVersion: UInt64 { value.version }

        func renderMetrics() -> String {
            renders.wrappingAdd(1, ordering: .relaxed)
            var out = FamilyWriter()
            out.family("test_own_value", .gauge, "A value of a component.", Double(value.read { $0 }))
            return out.text
        }
    }

    @Test func ownFamiliesAreRenderedAgainOnlyWhenTheirSourceChanged() throws {
        let source = CountedSource()
        let page = MetricsPage(store: SnapshotStore(clusters: [try cluster("a")]), ownSources: [source])
        func text(_ body: MetricsBody?) -> String? { body.map { String(decoding: $0.joined.readableBytesView, as: UTF8.self) } }
        #expect(text(page.plain())?.contains("test_own_value 0") == true)
        let rendered = source.renders.load(ordering: .relaxed)
        source.value.read { _ in }  // a read is no change
        for _ in 0..<3 { #expect(text(page.cached(gzip: false))?.contains("test_own_value 0") == true) }
        #expect(source.renders.load(ordering: .relaxed) == rendered)

        source.value.mutate { $0 = 7 }
        #expect(page.cached(gzip: false) == nil, "the cached page no longer shows the source")
        #expect(text(page.plain())?.contains("test_own_value 7") == true)
        #expect(text(page.cached(gzip: false))?.contains("test_own_value 7") == true)
    }
}
