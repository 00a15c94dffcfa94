@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct ClusterSnapshotTests {
    /// `endpoints` reads the REST checks' fields one by one: it must list exactly the REST
    /// checks a cluster runs, in `Checks.all` order, as a new check or field would change.
    @Test(arguments: ["", ", endpoints: [status, nodes]", ", endpoints: [health, config, cluster]", ", test_interval: 1h"])
    func endpointsAreTheRESTChecksTheClusterRunsInCheckOrder(settings: String) throws {
        let yaml = "clusters: [{name: c, url: \"https://x\"\(settings)}]"
        let cluster = try ConfigLoader.load(yaml: yaml, source: "t").clusters[0]
        let expected = Checks.all.filter { $0 is any RESTCheck && $0.schedule(for: cluster) != nil }.map(\.id)
        #expect(ClusterSnapshot(cluster: cluster).endpoints.map(\.endpoint) == expected)
        if settings.contains("test") { #expect(expected.count == Checks.all.count { $0 is any RESTCheck }) }
    }
}
