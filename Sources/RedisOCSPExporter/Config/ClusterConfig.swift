import FoundationEssentials
import NIOSSL
import YAML

/// One Redis Software cluster to poll.
public struct ClusterConfig: Sendable {
    var name: String
    /// Base URL of the REST API without a trailing slash, e.g. "https://re.example.com:9443".
    var baseURL: String
    var credentials: Credentials?
    var pollInterval: Duration
    var timeout: Duration
    /// How often to POST /v1/ocsp/test; nil (the default) never calls it, since each call makes
    /// the cluster query its OCSP responder.
    var testInterval: Duration?
    var tls: TLSConfiguration
    /// Host name the TLS certificate is checked against when it differs from the URL's host.
    var serverName: String?
    /// Static labels added to every series of this cluster.
    var labels: Labels
    /// TLS endpoints to check for what they staple; nil when not configured.
    var staplingProbe: StaplingProbeConfig?
    /// The OCSP responder asked directly; nil when not configured.
    var responderProbe: ResponderProbeConfig? = nil
    /// The REST endpoints to poll (`endpoints:`); nil polls each check's default.
    var endpoints: Set<String>? = nil
}

extension ClusterConfig: Equatable {
    /// Whether two configurations poll the same way; a password read anew from its file
    /// counts, so a rotated secret takes effect on reload.
    public static func == (a: ClusterConfig, b: ClusterConfig) -> Bool {
        a.name == b.name && a.baseURL == b.baseURL && a.credentials == b.credentials && a.pollInterval == b.pollInterval
            && a.timeout == b.timeout && a.testInterval == b.testInterval && a.serverName == b.serverName && a.labels == b.labels
            && a.tls.bestEffortEquals(b.tls) && a.staplingProbe == b.staplingProbe && a.responderProbe == b.responderProbe && a.endpoints == b.endpoints
    }
}

struct Credentials: Sendable, Equatable {
    var username: String
    var password: Secret

    /// The `Authorization` header value for HTTP Basic auth (RFC 7617).
    var basicAuthorization: Secret {
        Secret("Basic " + Data("\(username):\(password.value)".utf8).base64EncodedString())
    }
}

/// A string that never prints itself, so a secret cannot reach a log line by accident.
struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    let value: String
    init(_ value: String) { self.value = value }
    var description: String { "<secret>" }
    var debugDescription: String { "<secret>" }
}

extension Reader {
    mutating func readCluster(
        _ node: YAMLNode, index: Int, pollInterval: Duration, timeout: Duration, seen: inout [String: Int]
    ) -> ClusterConfig? {
        let allowed = ["name", "url", "username", "password", "password_file", "password_env", "poll_interval",
                       "timeout", "test_interval", "tls", "labels", "stapling_probe", "responder_probe", "endpoints"]
        var field = "clusters[\(index)]"
        guard let fields = mapping(node, field, allowed: allowed) else { return nil }
        let issuesBefore = issues.count

        let name = string(fields["name"], "\(field).name")
        if let name {
            field += " (\(name))"
            if name.isEmpty || name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                issue("\(field).name", fields["name"], "must be non-empty text without control characters")
            } else if let first = seen[name] {
                issue("\(field).name", fields["name"], "duplicate cluster name, already used by clusters[\(first)]")
            } else {
                seen[name] = index
            }
        } else if fields["name"] == nil {
            issue("\(field).name", node, "is required")
        }

        let baseURL = url(fields["url"], "\(field).url", parent: node)
        let credentials = readCredentials(fields, field: field)
        let clusterPoll = duration(fields["poll_interval"], "\(field).poll_interval") ?? pollInterval
        let clusterTimeout = duration(fields["timeout"], "\(field).timeout") ?? timeout
        let testInterval = duration(fields["test_interval"], "\(field).test_interval")
        let (tls, serverName) = readTLS(fields["tls"], field: "\(field).tls")
        let labels = readLabels(fields["labels"], field: "\(field).labels")
        let probe = readStaplingProbe(fields["stapling_probe"], field: "\(field).stapling_probe", interval: clusterPoll, timeout: clusterTimeout)
        let responderProbe = readResponderProbe(fields["responder_probe"], field: "\(field).responder_probe", stapling: fields["stapling_probe"])
        let endpoints = readEndpoints(fields["endpoints"], field: "\(field).endpoints")

        guard issues.count == issuesBefore, let name, let baseURL, let tls else { return nil }
        if credentials != nil, baseURL.lowercased().hasPrefix("http://") {
            warn("\(field).url", fields["url"], "credentials go over plain http:// and can be read on the way; use https://")
        }
        return ClusterConfig(
            name: name, baseURL: baseURL, credentials: credentials, pollInterval: clusterPoll, timeout: clusterTimeout,
            testInterval: testInterval, tls: tls, serverName: serverName, labels: labels, staplingProbe: probe, responderProbe: responderProbe, endpoints: endpoints
        )
    }

    /// `endpoints:`, the REST endpoints to poll; nil when not set.
    mutating func readEndpoints(_ node: YAMLNode?, field: String) -> Set<String>? {
        guard let node else { return nil }
        guard case .sequence(let items, _) = node else {
            issue(field, node, "must be a list of \(knownEndpoints.joined(separator: ", "))")
            return nil
        }
        var endpoints: Set<String> = []
        for (index, item) in items.enumerated() {
            guard let name = string(item, "\(field)[\(index)]") else { continue }
            if !knownEndpoints.contains(name) {
                issue("\(field)[\(index)]", item, "\"\(name)\" is not one of \(knownEndpoints.joined(separator: ", ")) (the test call is chosen by test_interval)")
            } else if !endpoints.insert(name).inserted {
                issue("\(field)[\(index)]", item, "\(name) is listed twice")
            }
        }
        return endpoints
    }

    /// `text` with whatever stands before an `@` in its authority replaced: a URL that is
    /// refused may still carry `user:password@`, and the message must not.
    static func redactingUserInfo(_ text: String) -> String {
        let authorityStart = text.firstRange(of: "://")?.upperBound ?? text.startIndex
        let authorityEnd = text[authorityStart...].firstIndex { "/?#".contains($0) } ?? text.endIndex
        guard let at = text[authorityStart..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<authorityStart]) + "<redacted>" + String(text[at...])
    }

    mutating func url(_ node: YAMLNode?, _ field: String, parent: YAMLNode) -> String? {
        guard node != nil else {
            issue(field, parent, "is required (the REST API base URL, e.g. https://cluster.example.com:9443)")
            return nil
        }
        guard let text = string(node, field) else { return nil }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else {
            issue(field, node, "\"\(Self.redactingUserInfo(text))\" is not an absolute URL")
            return nil
        }
        guard scheme == "https" || scheme == "http" else {
            issue(field, node, "scheme must be https (or http behind a TLS-terminating proxy), got \(scheme)")
            return nil
        }
        guard components.user == nil, components.password == nil else {
            issue(field, node, "must not carry credentials; use username and password_file")
            return nil
        }
        guard components.query == nil, components.fragment == nil else {
            issue(field, node, "must not have a query or fragment")
            return nil
        }
        var normalized = text
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return normalized
    }

    mutating func readCredentials(_ fields: [String: YAMLNode], field: String) -> Credentials? {
        let username = string(fields["username"], "\(field).username")
        let sources = ["password", "password_file", "password_env"].filter { fields[$0] != nil }
        if sources.count > 1 {
            issue("\(field).\(sources[1])", fields[sources[1]], "set only one of password, password_file and password_env")
            return nil
        }
        var password: String?
        if let node = fields["password"] {
            password = string(node, "\(field).password")
            warn("\(field).password", node, "the password is written in the configuration file; password_file or password_env keeps it out")
        } else if let node = fields["password_file"] {
            password = secretFile(node, "\(field).password_file")
        } else if let node = fields["password_env"], let variable = string(node, "\(field).password_env") {
            if let value = environment[variable] {
                password = value
            } else {
                issue("\(field).password_env", node, "environment variable \(variable) is not set")
            }
        }
        switch (username, password) {
        case let (user?, pass?): return Credentials(username: user, password: Secret(pass))
        case (nil, nil): return nil
        case (nil, _?): issue("\(field).username", fields[sources[0]], "is required when a password is set")
        case (_?, nil) where sources.isEmpty:
            issue("\(field).password_file", fields["username"], "a username needs password_file, password_env or password")
        default: break  // the password source already reported its problem
        }
        return nil
    }
}
