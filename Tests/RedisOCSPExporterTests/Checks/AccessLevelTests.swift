import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// The access level each combination of answers shows, and a cluster_viewer user end to end.
struct AccessLevelTests {
    static let forbidden = CheckFailure(code: "http_403", message: "HTTP 403", httpStatus: 403)
    static let unauthorized = CheckFailure(code: "http_401", message: "HTTP 401", httpStatus: 401)
    static let unsupported = CheckFailure(code: CheckFailure.unsupported, message: "HTTP 406", httpStatus: 406)
    static let htmlError = CheckFailure(code: "http_500", message: "HTTP 500", httpStatus: 500)
    static let timeout = CheckFailure(code: CheckFailure.timeout, message: "timed out")

    @Test func levelsFollowTheContract() {
        func level(_ ocsp: [CheckFailure?], _ others: [CheckFailure?], previous: AccessLevel? = nil) -> AccessLevel? {
            AccessLevel.of(ocsp: ocsp, others: others, previous: previous)
        }
        #expect(level([nil, nil], [nil, nil]) == .admin)
        // An API error code past the permission check is an answer: a mid-upgrade cluster.
        #expect(level([Self.unsupported, Self.unsupported], [nil]) == .admin)
        #expect(level([Self.forbidden, Self.forbidden], [nil, nil]) == .viewer)
        #expect(level([Self.forbidden], [Self.timeout, nil]) == .viewer)
        #expect(level([], [nil, nil]) == .viewer, "OCSP endpoints left out of endpoints:")
        #expect(level([Self.unauthorized, Self.unauthorized], [Self.unauthorized]) == .noAccess)
        #expect(level([Self.forbidden], [Self.timeout]) == .noAccess)
        #expect(level([Self.timeout], [Self.timeout]) == .noAccess)
        // OCSP endpoints failing otherwise tell nothing about the level: it stays.
        #expect(level([Self.timeout, Self.htmlError], [nil], previous: .admin) == .admin)
        #expect(level([Self.timeout], [nil], previous: nil) == nil)
    }

    /// A cluster_viewer user with the default endpoints: 403 on the OCSP endpoints as the
    /// contract says, nodes and cluster alerts exported, viewer level, and one log line with
    /// the fix however many rounds run. With only nodes and alerts listed, no 403 and no
    /// RedisOCSPAPIDown condition.
    @Test func aViewerUserRunsAtViewerLevelAndIsToldWhy() async throws {
        let clusters = [SimulatedCluster(name: "viewer", scenario: .revoked), SimulatedCluster(name: "chosen", scenario: .revoked),
                        SimulatedCluster(name: "admin", scenario: .revoked)]
        let simulator = try await SimulatorServer.start(clusters)
        let files = try SimulatorFiles(simulator, prefix: "access")
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let ca = files.ca
        func entry(_ cluster: SimulatedCluster, user: String, extra: String = "") -> String {
            "  - {name: \(cluster.name), url: \"\(simulator.urls[cluster.name]!)\", username: \(user), password: \(cluster.password), tls: {ca_file: \(ca)}\(extra)}\n"
        }
        let config = try ConfigLoader.load(yaml: "clusters:\n" + entry(clusters[0], user: clusters[0].viewerUsername)
            + entry(clusters[1], user: clusters[1].viewerUsername, extra: ", endpoints: [nodes, alerts]")
            + entry(clusters[2], user: clusters[2].username), source: "viewer.yml")
        let lines = NIOLockedValueBox<[String]>([])
        let logger = Logger(label: "t") { _ in ExporterLogHandler(label: "t", level: .info, format: .logfmt) { line in lines.withLockedValue { $0.append(line) } } }
        var snapshots: [String: ClusterSnapshot] = [:]
        for cluster in config.clusters {
            var snapshot = ClusterSnapshot(cluster: cluster)
            let client = ClusterClient(cluster: cluster, idleTimeout: Scheduler.idleTimeout(keptAlive: true))
            defer { client.connections.close() }
            let context = CheckContext(cluster: cluster, client: client, logger: logger, now: { Date().timeIntervalSince1970 })
            for (lane, checks, _) in CheckRound.lanes(for: cluster) {
                for _ in 0..<3 { snapshot.apply(try await CheckRound.run(lane, checks, on: snapshot, context: context)) }
            }
            snapshots[cluster.name] = snapshot
        }
        await simulator.stop()

        let viewer = try #require(snapshots["viewer"])
        #expect(viewer.accessLevel == .viewer)
        #expect(viewer.health("config")?.error?.code == "http_403")
        #expect(viewer.health("status")?.error?.code == "http_403")
        #expect(viewer.nodes?.count == 3)
        #expect(viewer.clusterReports("cluster_ocsp_status_revoked"))
        var samples = ClusterSamples(labels: [("cluster", "viewer")])
        RESTRound.render(viewer, into: &samples)
        let page = String(decoding: ClusterFamily.allCases.flatMap { samples[$0] }, as: UTF8.self)
        #expect(page.contains(#"redis_ocsp_access_level{cluster="viewer",level="viewer"} 1"#))
        #expect(page.contains(#"redis_ocsp_api_error{cluster="viewer",endpoint="status",error_code="http_403"} 1"#))

        let warnings = lines.withLockedValue { $0 }.filter { $0.contains("cluster=viewer") && $0.contains("level=warn") && $0.contains("viewer level") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.contains("the user lacks view_ocsp_config, view_ocsp_status; the OCSP endpoints need the admin role") == true)

        // The report (check's and the landing page's) says the same.
        func access(_ snapshot: ClusterSnapshot) -> String? {
            guard case .text(let text)? = ClusterReport(snapshot, alerts: [], rules: RulesConfig(), now: 0).facts(now: 0)
                .first(where: { $0.heading == "Access" })?.lines.first?.first else { return nil }
            return text
        }
        #expect(access(viewer)?.hasPrefix("viewer: the user lacks view_ocsp_config, view_ocsp_status;") == true)

        let chosen = try #require(snapshots["chosen"])
        #expect(access(chosen) == "viewer")
        #expect(chosen.accessLevel == .viewer)
        #expect(chosen.endpoints.map(\.endpoint).sorted() == ["alerts", "nodes"])
        #expect(!lines.withLockedValue { $0 }.contains { $0.contains("cluster=chosen") && $0.contains("level=warn") })
        let settings = RulesConfig()
        #expect(Rule.apiDown.conditions(chosen, now: Date().timeIntervalSince1970, settings: settings[.apiDown]).isEmpty)
        #expect(Rule.apiDown.conditions(viewer, now: Date().timeIntervalSince1970, settings: settings[.apiDown]).count == 2)
        // A revoked certificate reaches a viewer through the cluster's own alert.
        #expect(Rule.certRevoked.conditions(chosen, now: Date().timeIntervalSince1970, settings: settings[.certRevoked]).count == 1)

        #expect(snapshots["admin"]?.accessLevel == .admin)
    }
}
