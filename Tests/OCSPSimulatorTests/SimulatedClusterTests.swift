import Foundation
import OCSPSimulator
import RedisSoftwareAPI
import NIOConcurrencyHelpers
import Testing

/// The simulator must answer as the API reference documents, errors included.
struct SimulatedClusterTests {
    func auth(_ cluster: SimulatedCluster) -> String {
        "Basic " + Data("\(cluster.username):\(cluster.password)".utf8).base64EncodedString()
    }

    func call(_ cluster: SimulatedCluster, _ method: String, _ path: String, body: String = "") async -> (Int, [String: JSONValue]?, String) {
        let response = await cluster.handle(SimRequest(method: method, path: path, authorization: auth(cluster), body: Array(body.utf8)))
        let json = try? JSONValue.parse(response.body)
        if case .object(let fields)? = json { return (response.status, fields, String(decoding: response.body, as: UTF8.self)) }
        return (response.status, nil, String(decoding: response.body, as: UTF8.self))
    }

    /// A healthy answer is never within the hour ExpiringSoon watches, at any time of day:
    /// at the last second of a refresh window it still has two hours left (with one, the
    /// exporter's tests fired ExpiringSoon on healthy clusters near every full hour).
    @Test func aHealthyAnswerIsFarFromExpiringAtEveryMomentOfTheHour() async throws {
        for offset: Int64 in [0, 1, 1800, 3598, 3599] {
            let now = 1_800_000_000 - 1_800_000_000 % 3600 + offset
            let cluster = SimulatedCluster(name: "a", scenario: .healthy, clock: { now })
            let (_, fields, _) = await call(cluster, "GET", "/v1/ocsp/status")
            guard case .string(let text)? = fields?["next_update"], let next = HTTPDate.parse(text) else {
                Issue.record("no next_update")
                return
            }
            #expect(next - now > 3600 + 600, "next_update \(next - now) s ahead at \(offset) s into the hour")
        }
    }

    @Test func basicAuthIsRequired() async {
        let cluster = SimulatedCluster(name: "a", scenario: .healthy)
        for header in [nil, "Basic " + Data("\(cluster.username):wrong".utf8).base64EncodedString(), "Bearer x", "Basic !!!"] {
            let response = await cluster.handle(SimRequest(method: "GET", path: "/v1/ocsp", authorization: header))
            #expect(response.status == 401)
            #expect(response.headers.contains { $0.0 == "WWW-Authenticate" })
        }
        #expect(await call(cluster, "GET", "/v1/ocsp").0 == 200)
    }

    @Test func healthyAnswersCarryTheDocumentedFields() async throws {
        let cluster = SimulatedCluster(name: "a", scenario: .healthy)
        let (status, config, _) = await call(cluster, "GET", "/v1/ocsp")
        #expect(status == 200)
        #expect(config?["ocsp_functionality"] == .bool(true))
        #expect(config?["responder_url"] == .string(SimulatedCluster.responderURL))
        for key in ["query_frequency", "response_timeout", "recovery_frequency", "recovery_max_tries"] {
            guard case .number? = config?[key] else { Issue.record("\(key) is not a number"); continue }
        }
        let (_, ocspStatus, _) = await call(cluster, "GET", "/v1/ocsp/status")
        #expect(ocspStatus?["cert_status"] == .string("GOOD"))
        for key in ["produced_at", "this_update", "next_update"] {
            guard case .string(let text)? = ocspStatus?[key] else { Issue.record("\(key) missing"); continue }
            #expect(HTTPDate.parse(text) != nil, "\(key)=\(text) is not an HTTP date")
        }
        #expect(ocspStatus?["revocation_time"] == nil)
        let (_, _, nodesBody) = await call(cluster, "GET", "/v1/nodes")
        guard case .array(let nodes) = try JSONValue.parse(Array(nodesBody.utf8)) else { Issue.record("nodes is not an array"); return }
        #expect(nodes.count == 3)
    }

    @Test func documentedErrorCodes() async {
        let unsupported = SimulatedCluster(name: "u", scenario: .unsupported)
        for (method, path) in [("GET", "/v1/ocsp"), ("GET", "/v1/ocsp/status"), ("POST", "/v1/ocsp/test"), ("PUT", "/v1/ocsp")] {
            let (status, body, _) = await call(unsupported, method, path, body: "{}")
            #expect(status == 406, "\(method) \(path)")
            #expect(body?["error_code"] == .string("ocsp_unsupported_by_capability"))
        }
        let (_, _, nodes) = await call(unsupported, "GET", "/v1/nodes")
        #expect(nodes.contains(SimulatedCluster.oldVersion))

        let noURL = SimulatedCluster(name: "n", scenario: .noResponderURL)
        #expect(await call(noURL, "POST", "/v1/ocsp/test").1?["error_code"] == .string("no_responder_url"))
        #expect(await call(noURL, "GET", "/v1/ocsp").1?["responder_url"] == .string(""))
        let invalid = SimulatedCluster(name: "i", scenario: .invalidOCSPResponse)
        #expect(await call(invalid, "GET", "/v1/ocsp/status").1?["error_code"] == .string("invalid_ocsp_response"))
        #expect(await call(invalid, "POST", "/v1/ocsp/test").1?["error_code"] == .string("invalid_ocsp_response"))
        let queued = SimulatedCluster(name: "q", scenario: .taskQueued)
        #expect(await call(queued, "POST", "/v1/ocsp/test").1?["error_code"] == .string("task_queued_for_too_long"))

        let forbidden = SimulatedCluster(name: "f", scenario: .forbidden)
        #expect(await call(forbidden, "GET", "/v1/ocsp/status").0 == 403)
        #expect(await call(forbidden, "GET", "/v1/nodes").0 == 200)
        let broken = SimulatedCluster(name: "b", scenario: .serverError)
        let (status, _, html) = await call(broken, "GET", "/v1/ocsp")
        #expect(status == 500)
        #expect(html.hasPrefix("<html>"))
        #expect(await call(broken, "DELETE", "/v1/ocsp").0 == 405)
        #expect(await call(broken, "GET", "/v1/bdbs").0 == 404)
    }

    /// POST /v1/ocsp/test documents 500 for "responder_url is not configured or polling task
    /// failed", and its errors come in the OpenAPI file's shape.
    @Test func testFailuresAnswer500AsDocumented() async {
        for (scenario, code) in [(Scenario.noResponderURL, "no_responder_url"), (.invalidOCSPResponse, "invalid_ocsp_response"),
                                 (.taskQueued, "task_queued_for_too_long")] {
            let (status, body, _) = await call(SimulatedCluster(name: "t", scenario: scenario), "POST", "/v1/ocsp/test")
            #expect(status == 500, "\(scenario)")
            #expect(body?["error_code"] == .string(code))
            #expect(body?["status_code"] == .number(500))
            guard case .string? = body?["description"] else { Issue.record("\(scenario): no description"); continue }
        }
    }

    /// With OCSP off the cluster stops refreshing: it serves the answer it cached last, stale.
    @Test func disabledServesAnOldCachedAnswer() async throws {
        let cluster = SimulatedCluster(name: "d", scenario: .disabled)
        let (status, body, _) = await call(cluster, "GET", "/v1/ocsp/status")
        #expect(status == 200)
        guard case .string(let text)? = body?["next_update"], let next = HTTPDate.parse(text) else {
            Issue.record("no next_update"); return
        }
        #expect(next < Int64(Date().timeIntervalSince1970))
    }

    /// The OCSP endpoints need the admin role; a cluster_viewer reads nodes and cluster alerts.
    @Test func aViewerGets403OnTheOCSPEndpointsOnly() async {
        let cluster = SimulatedCluster(name: "v", scenario: .healthy)
        let viewer = "Basic " + Data("\(cluster.viewerUsername):\(cluster.password)".utf8).base64EncodedString()
        for (method, path, expected) in [("GET", "/v1/ocsp", 403), ("PUT", "/v1/ocsp", 403), ("GET", "/v1/ocsp/status", 403),
                                         ("POST", "/v1/ocsp/test", 403), ("GET", "/v1/nodes", 200), ("GET", "/v1/cluster/alerts", 200)] {
            let response = await cluster.handle(SimRequest(method: method, path: path, authorization: viewer, body: Array("{}".utf8)))
            #expect(response.status == expected, "\(method) \(path)")
        }
        // The forbidden scenario is the configured user without the admin role.
        let forbidden = SimulatedCluster(name: "f", scenario: .forbidden)
        #expect(await call(forbidden, "POST", "/v1/ocsp/test").0 == 403)
    }

    /// The scenarios in which the cluster itself raises an OCSP or certificate alert.
    @Test(arguments: [(Scenario.queryFailed, "cluster_ocsp_query_failed"), (.certsExpiring, "cluster_certs_about_to_expire"),
                      (.revoked, "cluster_ocsp_status_revoked")])
    func clusterAlertScenarios(scenario: Scenario, alert: String) async {
        let cluster = SimulatedCluster(name: "a", scenario: scenario)
        let response = await cluster.handle(SimRequest(method: "GET", path: "/v1/cluster/alerts", query: "ignore_settings=true",
                                                       authorization: auth(cluster)))
        guard case .object(let alerts)? = try? JSONValue.parse(response.body) else { Issue.record("not an object"); return }
        let triggered = alerts.compactMap { name, value -> String? in
            guard case .object(let fields) = value, fields["state"] == .bool(true) else { return nil }
            return name
        }
        #expect(triggered == [alert])
    }

    @Test(arguments: [
        (#"{"query_frequency": 59}"#, "invalid_schema"), (#"{"query_frequency": 86401}"#, "invalid_schema"),
        (#"{"response_timeout": 0}"#, "invalid_schema"), (#"{"response_timeout": 61}"#, "invalid_schema"),
        (#"{"recovery_frequency": 30}"#, "invalid_schema"), (#"{"recovery_max_tries": 101}"#, "invalid_schema"),
        (#"{"recovery_max_tries": "5"}"#, "invalid_schema"), (#"{"ocsp_functionality": "yes"}"#, "invalid_schema"),
        (#"{"responder_url": "http://x"}"#, "invalid_schema"), (#"{"bogus": 1}"#, "invalid_schema"),
        (#"[]"#, "invalid_schema"), (#"{"query_frequency": 60.5}"#, "invalid_schema"),
    ])
    func putValidatesLikeTheRealAPI(_ body: String, _ code: String) async {
        let cluster = SimulatedCluster(name: "a", scenario: .healthy)
        let (status, answer, _) = await call(cluster, "PUT", "/v1/ocsp", body: body)
        #expect(status == 400)
        #expect(answer?["error_code"] == .string(code))
    }

    @Test func putChangesTheConfigurationWithinRange() async {
        let cluster = SimulatedCluster(name: "a", scenario: .healthy)
        let (status, answer, _) = await call(cluster, "PUT", "/v1/ocsp",
                                             body: #"{"ocsp_functionality": false, "query_frequency": 86400, "response_timeout": 60, "recovery_max_tries": 1}"#)
        #expect(status == 200)
        #expect(answer?["ocsp_functionality"] == .bool(false))
        #expect(answer?["query_frequency"] == .number(86400))
        #expect(await call(cluster, "GET", "/v1/ocsp").1?["response_timeout"] == .number(60))
        // Enabling without a responder URL is refused.
        let noURL = SimulatedCluster(name: "n", scenario: .noResponderURL)
        #expect(await call(noURL, "PUT", "/v1/ocsp", body: #"{"ocsp_functionality": false}"#).0 == 200)
        #expect(await call(noURL, "PUT", "/v1/ocsp", body: #"{"ocsp_functionality": true}"#).1?["error_code"] == .string("no_responder_url"))
    }

    @Test func testCachesItsAnswerOnlyWhileOCSPIsEnabled() async {
        let clock = Clock()
        let cluster = SimulatedCluster(name: "a", scenario: .stale, clock: { clock.t.withLockedValue { $0 } })
        let before = await call(cluster, "GET", "/v1/ocsp/status").1?["next_update"]
        clock.t.withLockedValue { $0 += 100 }
        let tested = await call(cluster, "POST", "/v1/ocsp/test").1
        #expect(tested?["cert_status"] == .string("GOOD"))
        #expect(await call(cluster, "GET", "/v1/ocsp/status").1?["next_update"] == before)

        let healthy = SimulatedCluster(name: "h", scenario: .healthy, clock: { clock.t.withLockedValue { $0 } })
        clock.t.withLockedValue { $0 += 5000 }
        let fresh = await call(healthy, "POST", "/v1/ocsp/test").1
        #expect(fresh?["produced_at"] == .string(HTTPDate.format(clock.t.withLockedValue { $0 })))
        #expect(await call(healthy, "GET", "/v1/ocsp/status").1?["produced_at"] == fresh?["produced_at"])

        let disabled = SimulatedCluster(name: "d", scenario: .disabled, clock: { clock.t.withLockedValue { $0 } })
        let cached = await call(disabled, "GET", "/v1/ocsp/status").1?["produced_at"]
        clock.t.withLockedValue { $0 += 10 }
        #expect(await call(disabled, "POST", "/v1/ocsp/test").0 == 200)
        #expect(await call(disabled, "GET", "/v1/ocsp/status").1?["produced_at"] == cached)
    }

    @Test func changingMovesThroughItsCycleWithTime() async {
        let clock = Clock()
        let cluster = SimulatedCluster(name: "c", scenario: .changing, changePeriod: .seconds(10), clock: { clock.t.withLockedValue { $0 } })
        var seen: [Scenario] = []
        for _ in 0..<6 {
            seen.append(cluster.effectiveScenario())
            clock.t.withLockedValue { $0 += 10 }
        }
        #expect(seen == [.healthy, .expiring, .stale, .revoked, .disabled, .healthy])
    }

    @Test func servesOverHTTPSWithItsCA() async throws {
        let cluster = SimulatedCluster(name: "tls", scenario: .healthy)
        let server = try await SimulatorServer.start([cluster])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ca = dir.appendingPathComponent("ca.pem").path
        try server.ca.caCertificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
        // The real openssl client verifies the chain and the host name.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let port = server.urls["tls"]!.split(separator: ":").last!
        process.arguments = ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-verify_return_error",
                             "-verify_hostname", "localhost", "-brief"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        await server.stop()
        #expect(text.contains("Verification: OK"), "\(text)")
    }
}

/// A settable wall clock for the simulator.
final class Clock: Sendable {
    let t = NIOLockedValueBox<Int64>(1_800_000_000)
}
