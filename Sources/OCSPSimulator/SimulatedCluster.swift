import RedisSoftwareAPI
import FoundationEssentials
import NIOConcurrencyHelpers

/// A request as the simulated REST API sees it.
public struct SimRequest: Sendable {
    public var method: String
    public var path: String
    /// The query string, without the `?`.
    public var query: String
    public var authorization: String?
    public var body: [UInt8]
    /// The Host header.
    public var host: String?

    public init(method: String, path: String, query: String = "", authorization: String? = nil, body: [UInt8] = [],
                host: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.authorization = authorization
        self.body = body
        self.host = host
    }
}

public struct SimResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)] = []

    public static func == (a: SimResponse, b: SimResponse) -> Bool {
        a.status == b.status && a.contentType == b.contentType && a.body == b.body
    }

    static func json(_ status: Int, _ object: Any) -> SimResponse {
        var body: [UInt8] = []
        serialize(object, into: &body)
        return SimResponse(status: status, contentType: "application/json", body: body)
    }

    /// JSON text of a tree of dictionaries, arrays, strings, numbers and booleans, keys sorted.
    static func serialize(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let bool as Bool: out += Array((bool ? "true" : "false").utf8)
        case let int as Int: out += Array(String(int).utf8)
        case let int as Int64: out += Array(String(int).utf8)
        case let double as Double: out += Array((double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : String(double)).utf8)
        case let string as String:
            out.append(UInt8(ascii: "\""))
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += Array("\\\"".utf8)
                case "\\": out += Array("\\\\".utf8)
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                default: out += Array(String(scalar).utf8)
                }
            }
            out.append(UInt8(ascii: "\""))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                serialize(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                serialize(key, into: &out)
                out.append(UInt8(ascii: ":"))
                serialize(object[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        default: out += Array("null".utf8)
        }
    }

    /// The API's error shape on its request pages: a JSON object with error_code and message.
    static func error(_ status: Int, _ code: String, _ message: String) -> SimResponse {
        json(status, ["error_code": code, "message": message])
    }

    /// The error shape of the REST API's OpenAPI file: error_code, description and status_code.
    static func openAPIError(_ status: Int, _ code: String, _ description: String) -> SimResponse {
        json(status, ["error_code": code, "description": description, "status_code": status])
    }

    static func text(_ status: Int, _ text: String, contentType: String = "text/plain") -> SimResponse {
        SimResponse(status: status, contentType: contentType, body: Array(text.utf8))
    }
}

/// One simulated Redis Software cluster: the OCSP endpoints of the REST API with their
/// documented fields, ranges, permissions and error codes, in a chosen `Scenario`.
/// The OCSP status of a real certificate (as in a response from its responder), so the status
/// answer describes the certificate a TLS server actually serves and the API's view can be
/// compared with the staple's. Dates are Unix seconds.
public struct CertificateStatus: Sendable {
    public var certStatus: String
    public var producedAt: Int64
    public var thisUpdate: Int64
    public var nextUpdate: Int64
    public var revocationTime: Int64?

    public init(certStatus: String, producedAt: Int64, thisUpdate: Int64, nextUpdate: Int64, revocationTime: Int64? = nil) {
        self.certStatus = certStatus
        self.producedAt = producedAt
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revocationTime = revocationTime
    }
}

/// Counts the clusters that have a request in flight at the same moment, and the most there
/// were: what a client's bound on concurrent rounds is about.
public final class InFlightGauge: Sendable {
    private let state = NIOLockedValueBox<(byCluster: [String: Int], peak: Int)>(([:], 0))

    public init() {}

    /// The most clusters that had a request in flight at once.
    public var peak: Int { state.withLockedValue { $0.peak } }

    func enter(_ cluster: String) {
        state.withLockedValue { s in
            s.byCluster[cluster, default: 0] += 1
            s.peak = max(s.peak, s.byCluster.count)
        }
    }

    func leave(_ cluster: String) {
        state.withLockedValue { s in
            s.byCluster[cluster, default: 1] -= 1
            if s.byCluster[cluster] == 0 { s.byCluster[cluster] = nil }
        }
    }
}

public final class SimulatedCluster: Sendable {
    public static let responderURL = "http://ocsp.simulated.example:8080"
    public static let currentVersion = "7.8.2-34"
    public static let oldVersion = "6.2.18-65"

    public let name: String
    /// An admin user: every endpoint answers it.
    public let username: String
    /// A cluster_viewer user with the same password: 403 on the OCSP endpoints.
    public let viewerUsername: String
    public let password: String
    public let slowDelay: Duration
    public let changePeriod: Duration
    /// The real certificate status the status answer reports, when set (see `CertificateStatus`).
    public let certificate: CertificateStatus?
    /// Whether the cluster's version has `GET /v4/cluster/health` (8.0.16 and later); older
    /// ones answer 404.
    public let hasHealthReport: Bool
    private let clock: @Sendable () -> Int64
    private let started: Int64
    private let inFlight: InFlightGauge?

    private struct OCSPSettings {
        var enabled = true
        var responderURL: String? = SimulatedCluster.responderURL
        var queryFrequency: Int64 = 3600
        var responseTimeout: Int64 = 1
        var recoveryFrequency: Int64 = 60
        var recoveryMaxTries: Int64 = 5
    }

    private struct State {
        var scenario: Scenario
        /// Changes made through PUT /v1/ocsp; the scenario's defaults apply to the rest.
        var settings: OCSPSettings?
        /// An answer cached by POST /v1/ocsp/test, which replaces the status of the scenario
        /// step it was made in.
        var testedStatus: (scenario: Scenario, object: [String: String])?
        var requests = 0
        var requestsByPath: [String: Int] = [:]
        var hosts: Set<String> = []
        var connections = 0
        var proxyCertificatePEM: String?
        var redirectsTo: String?
    }

    private let state: NIOLockedValueBox<State>

    public init(
        name: String, scenario: Scenario, username: String = "ocsp-monitor@example.com",
        viewerUsername: String = "ocsp-viewer@example.com", password: String = "simulated",
        slowDelay: Duration = .seconds(15), changePeriod: Duration = .seconds(60), certificate: CertificateStatus? = nil,
        inFlight: InFlightGauge? = nil, hasHealthReport: Bool = true,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.hasHealthReport = hasHealthReport
        self.inFlight = inFlight
        self.certificate = certificate
        self.name = name
        self.username = username
        self.viewerUsername = viewerUsername
        self.password = password
        self.slowDelay = slowDelay
        self.changePeriod = changePeriod
        self.clock = clock
        self.started = clock()
        state = NIOLockedValueBox(State(scenario: scenario))
    }

    public var scenario: Scenario {
        get { state.withLockedValue { $0.scenario } }
        set {
            state.withLockedValue {
                $0 = State(scenario: newValue, requests: $0.requests, requestsByPath: $0.requestsByPath, hosts: $0.hosts, connections: $0.connections,
                           proxyCertificatePEM: $0.proxyCertificatePEM, redirectsTo: $0.redirectsTo)
            }
        }
    }

    /// The PEM `GET /v1/cluster` reports as `proxy_certificate`: the certificate the cluster's
    /// proxies should serve. The server sets its own when none is given.
    public var proxyCertificatePEM: String? {
        get { state.withLockedValue { $0.proxyCertificatePEM } }
        set { state.withLockedValue { $0.proxyCertificatePEM = newValue } }
    }

    /// Set, this is a node that is not the master: it answers every request with a 307 to this
    /// base URL (the master's internal address), as Redis Software does without handle_redirects.
    public var redirectsTo: String? {
        get { state.withLockedValue { $0.redirectsTo } }
        set { state.withLockedValue { $0.redirectsTo = newValue } }
    }

    /// Requests answered so far, for tests that check the client's behaviour.
    public var requestCount: Int { state.withLockedValue { $0.requests } }

    /// Connections accepted so far, each a TLS handshake: for tests of the client's connection reuse.
    public var connectionCount: Int { state.withLockedValue { $0.connections } }

    func connectionAccepted() { state.withLockedValue { $0.connections += 1 } }

    /// Requests to one path (without its query) answered so far.
    public func requests(to path: String) -> Int { state.withLockedValue { $0.requestsByPath[path] ?? 0 } }

    /// The Host headers of the requests answered so far.
    public var hostsSeen: Set<String> { state.withLockedValue { $0.hosts } }

    /// The scenario in force now; `changing` resolves to its current step.
    public func effectiveScenario() -> Scenario {
        let scenario = state.withLockedValue { $0.scenario }
        guard scenario == .changing else { return scenario }
        let periodSeconds = max(1, changePeriod.components.seconds)
        let step = Int((clock() - started) / periodSeconds) % Scenario.changingCycle.count
        return Scenario.changingCycle[step]
    }

    public func handle(_ request: SimRequest) async -> SimResponse {
        let redirect = state.withLockedValue {
            $0.requests += 1
            $0.requestsByPath[request.path, default: 0] += 1
            if let host = request.host { $0.hosts.insert(host) }
            return $0.redirectsTo
        }
        if let redirect {
            var response = SimResponse.text(307, "Temporary Redirect")
            response.headers = [("Location", redirect + request.path + (request.query.isEmpty ? "" : "?" + request.query))]
            return response
        }
        inFlight?.enter(name)
        defer { inFlight?.leave(name) }
        let scenario = effectiveScenario()
        if scenario == .slow { try? await Task.sleep(for: slowDelay) }
        guard let role = role(request.authorization), scenario != .unauthorized else {
            var response = SimResponse.text(401, "Unauthorized")
            response.headers = [("WWW-Authenticate", "Basic realm=\"Redis Enterprise REST API\"")]
            return response
        }
        let admin = role == .admin && scenario != .forbidden
        switch (request.method, request.path) {
        case ("GET", "/v1/ocsp"): return ocspPrecondition(scenario, admin, "view_ocsp_config") ?? getConfig(scenario)
        case ("PUT", "/v1/ocsp"): return ocspPrecondition(scenario, admin, "config_ocsp") ?? putConfig(scenario, request.body)
        case ("GET", "/v1/ocsp/status"): return ocspPrecondition(scenario, admin, "view_ocsp_status") ?? getStatus(scenario)
        case ("POST", "/v1/ocsp/test"): return ocspPrecondition(scenario, admin, "test_ocsp_status") ?? postTest(scenario)
        case ("GET", "/v1/nodes"): return getNodes(scenario)
        case ("GET", "/v1/cluster"): return scenario == .serverError ? Self.serverErrorPage : getCluster()
        case ("GET", "/v4/cluster/health") where hasHealthReport: return scenario == .serverError ? Self.serverErrorPage : getHealth(scenario)
        case ("GET", "/v1/cluster/alerts"):
            return getClusterAlerts(scenario, ignoreSettings: request.query.split(separator: "&").contains("ignore_settings=true"))
        case (_, "/v1/ocsp"), (_, "/v1/ocsp/status"), (_, "/v1/ocsp/test"), (_, "/v1/nodes"), (_, "/v1/cluster/alerts"), (_, "/v1/cluster"):
            return .error(405, "method_not_allowed", "\(request.method) is not allowed on \(request.path)")
        default:
            return .error(404, "not_found", "no such resource: \(request.path)")
        }
    }

    /// The cluster object: a few of its settings, among them a secret the exporter must never
    /// keep or show, and the proxy certificate (permission view_cluster_info, held by every role).
    private func getCluster() -> SimResponse {
        var object: [String: Any] = [
            "name": "\(name).example.com", "email_alerts": false, "smtp_username": "alerts@example.com",
            "smtp_password": Self.smtpPassword, "handle_redirects": false,
        ]
        if let pem = proxyCertificatePEM { object["proxy_certificate"] = pem }
        return .json(200, object)
    }

    /// The health report (`ClusterHealthReport`): its required fields, with the certificates
    /// the cluster holds; the proxy's expires within days in the certs_expiring scenario.
    private func getHealth(_ scenario: Scenario) -> SimResponse {
        let now = clock()
        func certificate(_ type: String, days: Int64) -> [String: Any] {
            let until = Date(timeIntervalSince1970: TimeInterval(now + days * 86_400))
            return ["type": type, "expired": days < 0, "valid_until": until.formatted(.iso8601)]
        }
        return .json(200, [
            "fqdn": "\(name).example.com", "status": scenario == .certsExpiring ? "warning" : "ok",
            "license": ["expired": false], "nodes": [["id": 1, "status": "active", "version": "8.0.16-42"]],
            "active_alerts": [], "database_infos": [],
            "certificates": [certificate("api", days: 300), certificate("proxy", days: scenario == .certsExpiring ? 10 : 80),
                             certificate("syncer", days: 300)],
        ])
    }

    /// The cluster object's smtp_password: a test asserts it appears nowhere the exporter writes.
    public static let smtpPassword = "smtp-S3CRET-7c1e"

    private enum Role { case admin, viewer }

    private func role(_ header: String?) -> Role? {
        guard let header, header.hasPrefix("Basic "),
              let data = Data(base64Encoded: String(header.dropFirst(6))),
              let pair = String(data: data, encoding: .utf8)
        else { return nil }
        return pair == "\(username):\(password)" ? .admin : pair == "\(viewerUsername):\(password)" ? .viewer : nil
    }

    /// Errors shared by the OCSP endpoints, in the order the cluster would check them. Their
    /// permissions belong to the admin role only.
    private func ocspPrecondition(_ scenario: Scenario, _ admin: Bool, _ permission: String) -> SimResponse? {
        if !admin { return .text(403, "Forbidden: the user lacks \(permission)") }
        switch scenario {
        case .serverError: return Self.serverErrorPage
        case .unsupported: return .error(406, "ocsp_unsupported_by_capability", "Not all nodes support the OCSP capability")
        default: return nil
        }
    }

    private static let serverErrorPage = SimResponse.text(
        500, "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>", contentType: "text/html")

    private func settings(for scenario: Scenario) -> OCSPSettings {
        if let changed = state.withLockedValue({ $0.settings }) { return changed }
        var s = OCSPSettings()
        switch scenario {
        case .disabled: s.enabled = false
        case .noResponderURL: s.responderURL = ""
        default: break
        }
        return s
    }

    private func configObject(_ s: OCSPSettings) -> [String: Any] {
        var object: [String: Any] = [
            "ocsp_functionality": s.enabled, "query_frequency": s.queryFrequency, "response_timeout": s.responseTimeout,
            "recovery_frequency": s.recoveryFrequency, "recovery_max_tries": s.recoveryMaxTries,
        ]
        if let url = s.responderURL { object["responder_url"] = url }
        return object
    }

    private func getConfig(_ scenario: Scenario) -> SimResponse {
        var object = configObject(settings(for: scenario))
        if scenario == .wrongTypes { object["query_frequency"] = "3600" }
        return .json(200, object)
    }

    private func putConfig(_ scenario: Scenario, _ body: [UInt8]) -> SimResponse {
        // The documented schema: these fields, these types, these ranges; anything else is invalid_schema.
        let ranges: [(key: String, range: ClosedRange<Int64>, path: WritableKeyPath<OCSPSettings, Int64>)] = [
            ("query_frequency", 60...86_400, \.queryFrequency), ("response_timeout", 1...60, \.responseTimeout),
            ("recovery_frequency", 60...86_400, \.recoveryFrequency), ("recovery_max_tries", 1...100, \.recoveryMaxTries),
        ]
        var s = settings(for: scenario)
        do throws(DecodeError) {
            let object = try JSONObject(try JSONValue.parse(body), context: "body")
            if let unknown = object.fields.keys.sorted().first(where: { key in
                key != "ocsp_functionality" && !ranges.contains { $0.key == key }
            }) {
                // responder_url is read-only: it comes from the proxy certificate.
                throw DecodeError("\(unknown) is not a writable field")
            }
            if let enabled = try object.bool("ocsp_functionality") { s.enabled = enabled }
            for (key, range, path) in ranges {
                guard let value = try object.int(key) else { continue }
                guard range.contains(value) else {
                    throw DecodeError("\(key) must be between \(range.lowerBound) and \(range.upperBound)")
                }
                s[keyPath: path] = value
            }
        } catch {
            return .error(400, "invalid_schema", error.description)
        }
        if s.enabled, (s.responderURL ?? "").isEmpty {
            return .error(400, "no_responder_url", "Cannot enable OCSP: the proxy certificate has no responder URL")
        }
        let result = s
        state.withLockedValue { $0.settings = result }
        return .json(200, configObject(result))
    }

    private func getStatus(_ scenario: Scenario) -> SimResponse {
        switch scenario {
        case .noResponderURL:
            return .error(400, "no_responder_url", "No OCSP responder URL is configured")
        case .invalidOCSPResponse:
            return .error(400, "invalid_ocsp_response", "The responder's answer is not OCSP-compatible")
        case .malformedJSON:
            return SimResponse(status: 200, contentType: "application/json", body: Array(#"{"cert_status": "GOOD", "produced_at": "Wed, 22 De"#.utf8))
        default:
            if let tested = state.withLockedValue({ $0.testedStatus }), tested.scenario == scenario { return .json(200, tested.object) }
            return .json(200, statusObject(scenario))
        }
    }

    /// The cached answer for a scenario. Fresh answers are refreshed every query_frequency,
    /// as the cluster does; broken ones are frozen relative to the simulator's start.
    private func statusObject(_ scenario: Scenario) -> [String: String] {
        let now = clock()
        let frequency = settings(for: scenario).queryFrequency
        let windowStart = now - now % frequency
        var object = [
            "responder_url": Self.responderURL, "cert_status": "GOOD",
            "produced_at": httpDate(windowStart), "this_update": httpDate(windowStart),
            // Valid two hours past the next refresh, as a responder's answers are: never within
            // the hour ExpiringSoon watches, whatever the time of day.
            "next_update": httpDate(windowStart + frequency + 2 * 3600),
        ]
        if let certificate {
            object["cert_status"] = certificate.certStatus
            object["produced_at"] = httpDate(certificate.producedAt)
            object["this_update"] = httpDate(certificate.thisUpdate)
            object["next_update"] = httpDate(certificate.nextUpdate)
            if let revoked = certificate.revocationTime { object["revocation_time"] = httpDate(revoked) }
        }
        switch scenario {
        case .revoked:
            object["cert_status"] = "REVOKED"
            object["revocation_time"] = httpDate(started - 86_400)
        case .unknown:
            object["cert_status"] = "UNKNOWN"
        // With OCSP switched off the cluster stops refreshing: the answer it cached last ages
        // (what it serves then is not documented; this is the likely case).
        case .stale, .disabled:
            object["produced_at"] = httpDate(started - 7 * 3600)
            object["this_update"] = httpDate(started - 7 * 3600)
            object["next_update"] = httpDate(started - 3600)
        case .queryFailed:
            object["produced_at"] = httpDate(started - 2 * 3600)
            object["this_update"] = httpDate(started - 2 * 3600)
            object["next_update"] = httpDate(started + 4 * 3600)
        case .expiring:
            object["produced_at"] = httpDate(now - 3600)
            object["this_update"] = httpDate(now - 3600)
            object["next_update"] = httpDate(now + 1200)
        case .badDates:
            object["produced_at"] = "yesterday"
            object["next_update"] = "2021-12-22T14:50:00Z"
        default:
            break
        }
        return object
    }

    /// Its failures answer 500, as its request page documents ("responder_url is not configured
    /// or polling task failed"), in the OpenAPI file's error shape.
    private func postTest(_ scenario: Scenario) -> SimResponse {
        let s = settings(for: scenario)
        if (s.responderURL ?? "").isEmpty || scenario == .noResponderURL {
            return .openAPIError(500, "no_responder_url", "No OCSP responder URL is configured")
        }
        switch scenario {
        case .invalidOCSPResponse:
            return .openAPIError(500, "invalid_ocsp_response", "The responder's answer is not OCSP-compatible")
        case .taskQueued:
            return .openAPIError(500, "task_queued_for_too_long", "The OCSP polling task stayed queued for over 5 seconds")
        case .queryFailed:
            // No error_code is documented for a responder that cannot be reached.
            return .text(500, "polling task failed")
        default:
            let now = clock()
            var fresh = statusObject(scenario)
            if scenario != .stale {
                fresh["produced_at"] = httpDate(now)
                fresh["this_update"] = httpDate(now)
                fresh["next_update"] = httpDate(now + s.queryFrequency + 3600)
            }
            // The answer is cached only while OCSP is enabled, as the API reference says.
            if s.enabled { state.withLockedValue { $0.testedStatus = (scenario, fresh) } }
            return .json(200, fresh)
        }
    }

    /// The OCSP and certificate alerts, all disabled in the cluster's settings as they are by
    /// default; without ignore_settings=true a disabled alert reads as not triggered.
    private func getClusterAlerts(_ scenario: Scenario, ignoreSettings: Bool) -> SimResponse {
        if scenario == .serverError { return Self.serverErrorPage }
        let triggered: Set<String> = switch scenario {
        case .revoked: ["cluster_ocsp_status_revoked"]
        case .queryFailed: ["cluster_ocsp_query_failed"]
        case .certsExpiring: ["cluster_certs_about_to_expire"]
        default: []
        }
        let since = Date(timeIntervalSince1970: TimeInterval(started)).formatted(.iso8601)
        var alerts: [String: Any] = [:]
        for name in ["cluster_ocsp_query_failed", "cluster_ocsp_status_revoked", "cluster_certs_about_to_expire",
                     "cluster_ca_cert_about_to_expire", "cluster_ram_overcommit"] {
            let state = ignoreSettings && triggered.contains(name)
            alerts[name] = ["state": state, "enabled": false, "severity": "WARNING", "change_time": since,
                            "change_value": ["state": state]] as [String: Any]
        }
        return .json(200, alerts)
    }

    private func getNodes(_ scenario: Scenario) -> SimResponse {
        switch scenario {
        case .serverError: return Self.serverErrorPage
        case .huge: return Self.hugeNodes
        default: return .json(200, Self.nodes(count: 3, oldLast: scenario == .unsupported))
        }
    }

    /// Node objects carry many fields the exporter must ignore; these have a few of them.
    private static func nodes(count: Int, oldLast: Bool, padding: Int = 0) -> [[String: Any]] {
        (1...count).map { uid in
            var node: [String: Any] = [
                "uid": uid, "addr": "10.0.0.\(uid % 250 + 1)", "status": "active",
                "software_version": oldLast && uid == count ? oldVersion : currentVersion,
                "total_memory": 16_777_216_000, "cores": 4, "rack_id": "",
            ]
            if padding > 0 { node["bigstore_driver"] = String(repeating: "x", count: padding) }
            return node
        }
    }

    /// Over 1 MiB, made once: building it per request would make a slow simulator, not a large answer.
    private static let hugeNodes = SimResponse.json(200, nodes(count: 600, oldLast: false, padding: 2000))

    private func httpDate(_ t: Int64) -> String { HTTPDate.format(t) }
}
