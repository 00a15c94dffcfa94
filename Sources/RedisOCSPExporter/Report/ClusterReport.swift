import Logging
import RedisSoftwareAPI

/// What one look at a cluster found: its OCSP facts, what clients are stapled, and every
/// problem with its alert, severity and runbook. The `check` command prints it (text, JSON,
/// plugin line) and the landing page shows it; the keys of its JSON form are documented.
public struct ClusterReport: Sendable, Encodable {
    /// The monitoring-plugins states: the exit status of `check`, worst wins.
    public enum Status: String, Sendable, Encodable, Comparable, CaseIterable {
        case ok = "OK", warning = "WARNING", critical = "CRITICAL", unknown = "UNKNOWN"

        public var exitCode: Int32 {
            switch self {
            case .ok: 0
            case .warning: 1
            case .critical: 2
            case .unknown: 3
            }
        }

        /// Worse is greater; UNKNOWN (nothing could be asked) is the worst.
        public static func < (a: Status, b: Status) -> Bool { a.exitCode < b.exitCode }
    }

    struct Node: Sendable, Encodable {
        var uid: Int64
        var addr: String
        var softwareVersion: String
        var status: String
        /// Below the version the other nodes run (or `min_software_version`) while the cluster
        /// answers ocsp_unsupported_by_capability.
        var blocksOCSP: Bool
    }

    struct Stapled: Sendable, Encodable {
        var endpoint: String
        /// The probe's error code; nil when the handshake completed.
        var error: String?
        var errorMessage: String?
        var staplePresent: Bool?
        var verified: Bool?
        var problem: String?
        var certStatus: String?
        var nextUpdate: Int64?
        var certNotAfter: Int64?
        /// The certificate that signed the staple: its notAfter, and whether a delegated responder's.
        var signerNotAfter: Int64?
        var signerDelegated: Bool?
        /// Whether the served certificate is the cluster's proxy certificate; nil while either is unknown.
        var matchesCluster: Bool?
    }

    /// What the responder probe got from the responder itself.
    struct Responder: Sendable, Encodable {
        var url: String
        var error: String?
        var errorMessage: String?
        var failingSince: Int64?
        var certStatus: String?
        var nextUpdate: Int64?
    }

    struct EndpointError: Sendable, Encodable {
        var endpoint: String
        var errorCode: String
        var message: String
    }

    struct Problem: Sendable, Encodable {
        var alertname: String
        var severity: String
        var status: Status
        /// "firing", or "pending" while its `for` runs (the landing page; `check` ignores `for`).
        var state: String
        /// The condition's own labels, but `endpoint`.
        var labels: [String: String]
        /// The endpoints the alert holds for, sorted: one line names them all.
        var endpoints: [String]
        /// What the endpoints' error codes point to, where they agree (RedisOCSPAPIDown).
        var cause: String?
        var summary: String
        var description: String
        var runbookURL: String

        /// What follows the alertname in a line: its labels' values, then its endpoints.
        var qualifier: String {
            (labels.sorted { $0.key < $1.key }.map(\.value) + (endpoints.isEmpty ? [] : [endpoints.joined(separator: ", ")]))
                .map { " (\($0))" }.joined()
        }
    }

    var cluster: String
    var url: String
    public private(set) var status: Status
    var checkedAt: Int64
    /// When the latest round of any of the cluster's checks finished; nil until each ran once.
    var polledAt: Int64?
    var accessLevel: String?
    /// The earliest moment clients that check stapling start failing, and why; nil when
    /// nothing foreseeable breaks (`ClientsFailAt`).
    var clientsFailAt: Int64?
    var clientsFailReason: String?
    /// The permissions of the OCSP endpoints that answered 403.
    var refusedPermissions: [String]
    var ocspEnabled: Bool?
    var supported: Bool?
    var certStatus: String?
    var responderURL: String?
    var producedAt: Int64?
    var thisUpdate: Int64?
    var nextUpdate: Int64?
    /// next_update - now: negative once stale.
    var nextUpdateInSeconds: Int64?
    var revocationTime: Int64?
    /// RedisOCSPResponseExpiringSoon's threshold for this cluster.
    var nextUpdateWarningSeconds: Double
    var nodes: [Node]?
    var stapled: [Stapled]
    var responder: Responder?
    var errors: [EndpointError]
    var problems: [Problem]

    /// The report of `snapshot`, with the problems of `alerts` (the rules evaluated on it).
    init(_ snapshot: ClusterSnapshot, alerts: [Alert], rules: RulesConfig, now: Double) {
        cluster = snapshot.name
        url = snapshot.baseURL
        checkedAt = Int64(now)
        polledAt = snapshot.polledAt.map { Int64($0) }
        accessLevel = snapshot.accessLevel?.rawValue
        let failing = ClientsFailAt.earliest(snapshot)
        clientsFailAt = failing.map { Int64($0.at) }
        clientsFailReason = failing?.reason.rawValue
        refusedPermissions = snapshot.refusedPermissions
        nextUpdateWarningSeconds = rules[.responseExpiringSoon].threshold.seconds(for: snapshot.config)
        ocspEnabled = snapshot.config?.enabled
        supported = snapshot.supported
        let status = snapshot.status
        certStatus = status?.certStatus.rawValue
        responderURL = snapshot.config?.responderURL ?? status?.responderURL
        producedAt = status?.producedAt
        thisUpdate = status?.thisUpdate
        nextUpdate = status?.nextUpdate
        nextUpdateInSeconds = status?.nextUpdate.map { $0 - Int64(now) }
        revocationTime = status?.revocationTime
        nodes = snapshot.nodes.map { nodes in
            let blocking = snapshot.supported == false ? Self.blocking(nodes, minimum: rules[.unsupportedNodes].minSoftwareVersion) : []
            return nodes.sorted { $0.uid < $1.uid }.map {
                Node(uid: $0.uid, addr: $0.addr, softwareVersion: $0.softwareVersion, status: $0.status, blocksOCSP: blocking.contains($0.uid))
            }
        }
        let proxy = snapshot.proxyCertificate?.sha256
        stapled = snapshot.stapling.map { probe in
            let handshake = probe.handshake, staple = handshake?.staple
            return Stapled(endpoint: probe.endpoint, error: probe.error?.code, errorMessage: probe.error?.message,
                           staplePresent: handshake.map { $0.staple != nil }, verified: staple?.verified, problem: staple?.problem,
                           certStatus: staple?.certStatus?.rawValue, nextUpdate: staple?.nextUpdate, certNotAfter: handshake?.leafNotAfter,
                           signerNotAfter: staple?.signerNotAfter, signerDelegated: staple?.signerDelegated,
                           matchesCluster: proxy.flatMap { proxy in handshake?.leafSHA256.map { $0 == proxy } })
        }
        responder = snapshot.responder.flatMap { state in
            state.result.map { _ in
                Responder(url: state.responder, error: state.error?.code, errorMessage: state.error?.message,
                          failingSince: state.failingSince.map { Int64($0) }, certStatus: state.answer?.certStatus?.rawValue,
                          nextUpdate: state.answer?.nextUpdate)
            }
        }
        errors = snapshot.failures.map { EndpointError(endpoint: $0.endpoint, errorCode: $0.failure.code, message: $0.failure.message) }
        problems = Self.problems(alerts, of: snapshot, rules: rules)
        // Nothing answered: the cluster could not be asked at all.
        let asked = snapshot.accessLevel.map { $0 != .noAccess } ?? false
        self.status = asked ? problems.map(\.status).max() ?? .ok : .unknown
    }

    /// One problem per alert, except that alerts of one rule that differ only in their
    /// endpoint are one problem naming every endpoint (a cluster that refuses the password
    /// is one RedisOCSPAPIDown, not one per endpoint), with the cause their codes point to.
    static func problems(_ alerts: [Alert], of snapshot: ClusterSnapshot, rules: RulesConfig) -> [Problem] {
        var groups: [String: [Alert]] = [:]
        for alert in alerts {
            groups[Self.ownLabels(alert, snapshot, rules).filter { $0.name != "endpoint" }
                .reduce("\(alert.rule.name)\u{1F}\(alert.state.rawValue)\u{1F}\(alert.severity)") { $0 + "\u{1F}\($1.name)=\($1.value)" },
                   default: []].append(alert)
        }
        return groups.values.map { group in
            let first = group[0]
            let endpoints = group.compactMap { $0.labels["endpoint"] }.sorted()
            var summary = first.annotations["summary"] ?? ""
            var description = first.annotations["description"] ?? ""
            if group.count > 1, let template = rules[first.rule].annotations["summary"] {
                // The rule's own texts, with `endpoint` naming all of them.
                let labels = Labels(first.labels.map { ($0.name, $0.name == "endpoint" ? endpoints.joined(separator: ", ") : $0.value) })
                summary = AnnotationTemplate.expand(template, labels: labels, value: first.value)
                description = rules[first.rule].annotations["description"].map { AnnotationTemplate.expand($0, labels: labels, value: first.value) } ?? description
            }
            let codes = Dictionary(group.compactMap { alert in alert.labels["endpoint"].flatMap { e in alert.annotations["error_code"].map { (e, $0) } } },
                                   uniquingKeysWith: { a, _ in a })
            let own = Self.ownLabels(first, snapshot, rules).filter { $0.name != "endpoint" }
            return Problem(alertname: first.rule.name, severity: first.severity, status: first.severity == "critical" ? .critical : .warning,
                           state: first.state.rawValue, labels: Dictionary(own.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                           endpoints: endpoints, cause: codes.isEmpty ? nil : cause(codes, of: snapshot),
                           summary: summary, description: description, runbookURL: first.annotations["runbook_url"] ?? "")
        }.sorted { ($0.status, $1.alertname, $1.endpoints.first ?? "") > ($1.status, $0.alertname, $0.endpoints.first ?? "") }
    }

    private static func ownLabels(_ alert: Alert, _ snapshot: ClusterSnapshot, _ rules: RulesConfig) -> [Labels.Label] {
        alert.labels.filter { label in
            !["alertname", "cluster", "severity"].contains(label.name) && snapshot.labels[label.name] == nil
                && rules[alert.rule].labels[label.name] == nil
        }
    }

    /// What failing endpoints' error codes (by endpoint) point to, where they agree.
    static func cause(_ codes: [String: String], of snapshot: ClusterSnapshot) -> String? {
        let distinct = Set(codes.values)
        guard distinct.count == 1, let code = distinct.first else {
            return codes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        }
        let polled = snapshot.endpoints.filter(\.polled).map(\.endpoint)
        let everywhere = Set(codes.keys) == Set(polled)
        let ocsp = Set(RESTRound.checks.compactMap { $0.isOCSPEndpoint ? $0.id : nil })
        switch code {
        case "http_401":
            return "the credentials are refused (HTTP 401 on \(everywhere ? "every endpoint" : "these endpoints")): check the username and the password"
        case "http_403" where Set(codes.keys).isSubset(of: ocsp) && !everywhere:
            return "the user's role may not read OCSP (HTTP 403 on the OCSP endpoints only; refused: "
                + snapshot.refusedPermissions.joined(separator: ", ") + "): give it the admin role, or poll only nodes, alerts, cluster and health (endpoints:)"
        case "http_403":
            return "the user's role may not read these endpoints (HTTP 403): check the user's role"
        case CheckFailure.connectionFailed:
            return "the cluster cannot be reached (\(code)): check the URL, DNS and the network path"
        case CheckFailure.timeout:
            return "the cluster does not answer in time (\(code)): check its load and the network, or raise timeout"
        case CheckFailure.tlsError:
            return "TLS fails (\(code)): check ca_file, server_name and the certificate the cluster serves"
        default:
            return "\(code) on \(everywhere ? "every endpoint" : codes.count == 1 ? "this endpoint" : "these endpoints")"
        }
    }

    /// The nodes that keep a mixed-version cluster from OCSP: those below `minimum`, or below
    /// the newest version in the cluster.
    static func blocking(_ nodes: [ClusterNode], minimum: String?) -> Set<Int64> {
        guard let target = minimum ?? nodes.map(\.softwareVersion).max(by: { SoftwareVersion.compare($0, $1) < 0 }) else { return [] }
        return Set(nodes.filter { SoftwareVersion.compare($0.softwareVersion, target) < 0 }.map(\.uid))
    }
}
