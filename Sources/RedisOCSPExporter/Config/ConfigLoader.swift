import Foundation
import NIOSSL
import Yams

/// Reads and validates the YAML configuration. Every problem in the document is collected
/// and reported at once, each naming the file, the line, the cluster and the field.
public enum ConfigLoader {
    /// - Parameter shard: overrides the file's `shard:` (the `--shard` flag).
    public static func load(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            shard: Shard? = nil) throws -> ExporterConfig {
        try load(root: ConfigFile.document(path), source: path, environment: environment, shard: shard)
    }

    public static func load(yaml: String, source: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            shard: Shard? = nil) throws -> ExporterConfig {
        try load(root: ConfigFile.parse(yaml: yaml, source: source), source: source, environment: environment, shard: shard)
    }

    private static func load(root: Node?, source: String, environment: [String: String], shard: Shard?) throws -> ExporterConfig {
        var reader = Reader(source: source, environment: environment)
        let config = reader.readRoot(root)
        guard reader.issues.isEmpty, let config else {
            throw ConfigError(source: source, issues: reader.sortedIssues)
        }
        return config.sharded(shard ?? config.shard)
    }
}

/// Walks the YAML tree, turning nodes into typed values and problems into issues.
struct Reader {
    let source: String
    let environment: [String: String]
    var issues: [ConfigError.Issue] = []

    init(source: String, environment: [String: String]) {
        self.source = source
        self.environment = environment
    }

    /// Issues in document order, which is how a person fixes them.
    var sortedIssues: [ConfigError.Issue] {
        issues.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
    }

    mutating func issue(_ field: String, _ node: Node?, _ message: String) {
        issues.append(.init(field: field, message: message, line: node?.mark?.line))
    }

    /// The entries of a mapping, with unknown and duplicate keys reported.
    mutating func mapping(_ node: Node?, _ field: String, allowed: [String]) -> [String: Node]? {
        guard let node else { return [:] }
        guard case .mapping(let mapping) = node else {
            if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return [:] }
            issue(field, node, "must be a mapping")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                issue(field, keyNode, "keys must be strings")
                continue
            }
            // Duplicate keys never get here: the YAML parser rejects them.
            let path = field.isEmpty ? key.string : "\(field).\(key.string)"
            if !allowed.isEmpty, !allowed.contains(key.string) {
                issue(path, keyNode, "unknown field (known: \(allowed.joined(separator: ", ")))")
            } else {
                result[key.string] = value
            }
        }
        return result
    }

    mutating func string(_ node: Node?, _ field: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            issue(field, node, "must be a string")
            return nil
        }
        return scalar.string
    }

    mutating func bool(_ node: Node?, _ field: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Bool.construct(from: scalar) else {
            issue(field, node, "must be true or false")
            return nil
        }
        return value
    }

    mutating func int(_ node: Node?, _ field: String, range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            issue(field, node, "must be a whole number")
            return nil
        }
        guard range.contains(value) else {
            issue(field, node, "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node?, _ field: String, allowZero: Bool = false) -> Duration? {
        guard let text = string(node, field) else { return nil }
        guard let value = DurationParser.parse(text) else {
            issue(field, node, "\"\(text)\" is not a duration (use e.g. 500ms, 30s, 5m, 1h)")
            return nil
        }
        guard allowZero || value > .zero else {
            issue(field, node, "must be greater than 0")
            return nil
        }
        return value
    }

    /// A file path, with `${NAME}` replaced by that environment variable, so that a path can
    /// name systemd's `${CREDENTIALS_DIRECTORY}` (LoadCredential=) or a mounted secrets folder.
    mutating func path(_ node: Node?, _ field: String) -> String? {
        guard let text = string(node, field) else { return nil }
        switch expand(text) {
        case .success(let path): return path
        case .failure(let problem):
            issue(field, node, problem.reason)
            return nil
        }
    }

    func expand(_ text: String) -> Result<String, ConfigFile.Unreadable> {
        var result = "", rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                return .failure(.init(reason: "\"\(text)\" has ${ without a closing }"))
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = environment[name] else {
                return .failure(.init(reason: "environment variable \(name) (in \"\(text)\") is not set"))
            }
            result += value
            rest = rest[rest.index(after: end)...]
        }
        return .success(result + rest)
    }

    /// The secret in the file the field names (password_file, bearer_token_file).
    mutating func secretFile(_ node: Node?, _ field: String) -> String? {
        guard let path = path(node, field) else { return nil }
        switch ConfigFile.secret(path) {
        case .success(let secret): return secret
        case .failure(let error):
            issue(field, node, "cannot read \(path): \(error.reason)")
            return nil
        }
    }

    mutating func readRoot(_ root: Node?) -> ExporterConfig? {
        guard let top = mapping(root, "", allowed: ["poll_interval", "timeout", "max_concurrent_requests", "evaluation_interval",
                                                    "clusters", "rules", "alertmanager", "shard"]) else {
            return nil
        }
        let pollInterval = duration(top["poll_interval"], "poll_interval") ?? ExporterConfig.defaultPollInterval
        let timeout = duration(top["timeout"], "timeout") ?? ExporterConfig.defaultTimeout
        let maxConcurrent = int(top["max_concurrent_requests"], "max_concurrent_requests", range: 1...10_000)
            ?? ExporterConfig.defaultMaxConcurrentRequests

        var clusters: [ClusterConfig] = []
        switch top["clusters"] {
        case .sequence(let items)?:
            var seen: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                if let cluster = readCluster(item, index: index, pollInterval: pollInterval, timeout: timeout, seen: &seen) {
                    clusters.append(cluster)
                }
            }
            if items.isEmpty { issue("clusters", top["clusters"], "must list at least one cluster") }
        case nil:
            issue("clusters", root, "is required: list at least one cluster")
        case let other?:
            issue("clusters", other, "must be a list")
        }
        checkServerNames(clusters)
        return ExporterConfig(
            pollInterval: pollInterval, timeout: timeout, maxConcurrentRequests: maxConcurrent, clusters: clusters,
            evaluationInterval: duration(top["evaluation_interval"], "evaluation_interval") ?? ExporterConfig.defaultEvaluationInterval,
            rules: readRules(top["rules"]), alertmanager: readAlertmanager(top["alertmanager"]), shard: readShard(top["shard"])
        )
    }

    mutating func readShard(_ node: Node?) -> Shard? {
        guard let text = string(node, "shard") else { return nil }
        guard let shard = Shard(text) else {
            issue("shard", node, "\"\(text)\" is not I/N with 0 <= I < N (e.g. 0/3 for the first of three replicas)")
            return nil
        }
        return shard
    }

    mutating func readCluster(
        _ node: Node, index: Int, pollInterval: Duration, timeout: Duration, seen: inout [String: Int]
    ) -> ClusterConfig? {
        let allowed = ["name", "url", "username", "password", "password_file", "password_env", "poll_interval",
                       "timeout", "test_interval", "tls", "labels", "stapling_probe"]
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

        guard issues.count == issuesBefore, let name, let baseURL, let tls else { return nil }
        return ClusterConfig(
            name: name, baseURL: baseURL, credentials: credentials, pollInterval: clusterPoll, timeout: clusterTimeout,
            testInterval: testInterval, tls: tls, serverName: serverName, labels: labels, staplingProbe: probe
        )
    }

    mutating func url(_ node: Node?, _ field: String, parent: Node) -> String? {
        guard node != nil else {
            issue(field, parent, "is required (the REST API base URL, e.g. https://cluster.example.com:9443)")
            return nil
        }
        guard let text = string(node, field) else { return nil }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty
        else {
            issue(field, node, "\"\(text)\" is not an absolute URL")
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

    mutating func readCredentials(_ fields: [String: Node], field: String) -> Credentials? {
        let username = string(fields["username"], "\(field).username")
        let sources = ["password", "password_file", "password_env"].filter { fields[$0] != nil }
        if sources.count > 1 {
            issue("\(field).\(sources[1])", fields[sources[1]], "set only one of password, password_file and password_env")
            return nil
        }
        var password: String?
        if let node = fields["password"] {
            password = string(node, "\(field).password")
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

    mutating func readTLS(_ node: Node?, field: String, allowServerName: Bool = true) -> (TLSConfiguration?, String?) {
        var tls = TLSConfiguration.makeClientConfiguration()
        let allowed = ["ca_file", "cert_file", "key_file", "insecure_skip_verify"] + (allowServerName ? ["server_name"] : [])
        guard let fields = mapping(node, field, allowed: allowed) else {
            return (nil, nil)
        }
        let before = issues.count
        if let certificates = pemCertificates(fields["ca_file"], "\(field).ca_file") {
            tls.trustRoots = .certificates(certificates)
        }
        switch (fields["cert_file"], fields["key_file"]) {
        case (_?, _?):
            if let chain = pemCertificates(fields["cert_file"], "\(field).cert_file") { tls.certificateChain = chain.map { .certificate($0) } }
            if let key = pemPrivateKey(fields["key_file"], "\(field).key_file") { tls.privateKey = .privateKey(key) }
        case (let cert?, nil): issue("\(field).key_file", cert, "is required with cert_file")
        case (nil, let key?): issue("\(field).cert_file", key, "is required with key_file")
        case (nil, nil): break
        }
        let serverName = hostName(fields["server_name"], "\(field).server_name")
        if bool(fields["insecure_skip_verify"], "\(field).insecure_skip_verify") == true {
            tls.certificateVerification = .none
        }
        return issues.count == before ? (tls, serverName) : (nil, nil)
    }

    /// A TLS server name (SNI): a host name, no port or path.
    mutating func hostName(_ node: Node?, _ field: String) -> String? {
        guard let name = string(node, field) else { return nil }
        guard !name.isEmpty, !name.contains(where: { $0 == "/" || $0 == ":" || $0 == " " }) else {
            issue(field, node, "must be a host name")
            return nil
        }
        return name
    }

    /// The certificates of a PEM file the field names; nil, with the reason reported, when
    /// there are none.
    mutating func pemCertificates(_ node: Node?, _ field: String) -> [NIOSSLCertificate]? {
        guard let node, let path = path(node, field) else { return nil }
        if let problem = ConfigFile.problem(path) {
            issue(field, node, "cannot read \(path): \(problem)")
            return nil
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
            issue(field, node, "\(path) holds no valid PEM certificate")
            return nil
        }
        return certificates
    }

    /// The private key of a PEM file the field names. Messages give the path, never the content.
    mutating func pemPrivateKey(_ node: Node?, _ field: String) -> NIOSSLPrivateKey? {
        guard let node, let path = path(node, field) else { return nil }
        if let problem = ConfigFile.problem(path) {
            issue(field, node, "cannot read \(path): \(problem)")
            return nil
        }
        guard let key = try? NIOSSLPrivateKey(file: path, format: .pem) else {
            issue(field, node, "\(path) holds no valid PEM private key")
            return nil
        }
        return key
    }

    /// server_name is implemented as a shared DNS override (connect to the URL's host, verify
    /// the certificate for server_name), so one server_name cannot stand for two hosts.
    mutating func checkServerNames(_ clusters: [ClusterConfig]) {
        var hosts: [String: (host: String, cluster: String)] = [:]
        for cluster in clusters {
            guard let serverName = cluster.serverName, let host = URLComponents(string: cluster.baseURL)?.host else { continue }
            if let other = hosts[serverName], other.host != host {
                issue("clusters (\(cluster.name)).tls.server_name", nil,
                      "\(serverName) is already used by cluster \(other.cluster) for host \(other.host)")
            }
            hosts[serverName] = (host, cluster.name)
        }
    }
}

/// The `--cluster.*` flags: one cluster without a configuration file.
public struct SingleClusterFlags: Sendable {
    public var name: String
    public var url: String
    public var username: String?
    public var passwordFile: String?
    public var caFile: String?
    public var insecureSkipVerify: Bool

    public init(name: String, url: String, username: String?, passwordFile: String?, caFile: String?, insecureSkipVerify: Bool) {
        self.name = name
        self.url = url
        self.username = username
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
    }
}

extension ConfigLoader {
    /// Builds the configuration the flags describe and validates it exactly as a file is.
    public static func load(flags: SingleClusterFlags, environment: [String: String] = ProcessInfo.processInfo.environment,
                            shard: Shard? = nil) throws -> ExporterConfig {
        func scalar(_ s: String) -> Node { .scalar(.init(s, .implicit, .doubleQuoted)) }
        var cluster: [(Node, Node)] = [(scalar("name"), scalar(flags.name)), (scalar("url"), scalar(flags.url))]
        if let username = flags.username { cluster.append((scalar("username"), scalar(username))) }
        if let passwordFile = flags.passwordFile { cluster.append((scalar("password_file"), scalar(passwordFile))) }
        var tls: [(Node, Node)] = []
        if let caFile = flags.caFile { tls.append((scalar("ca_file"), scalar(caFile))) }
        if flags.insecureSkipVerify { tls.append((scalar("insecure_skip_verify"), .scalar(.init("true")))) }
        if !tls.isEmpty { cluster.append((scalar("tls"), .mapping(.init(tls)))) }
        let root = Node.mapping(.init([(scalar("clusters"), .sequence(.init([.mapping(.init(cluster))])))]))
        return try load(root: root, source: "command-line flags (--cluster.*)", environment: environment, shard: shard)
    }
}

extension ExporterConfig {
    /// Keeps the clusters `shard` owns. The whole file is validated before, so every replica
    /// accepts or refuses the same configuration.
    func sharded(_ shard: Shard?) -> ExporterConfig {
        guard let shard else { return self }
        var config = self
        config.shard = shard
        config.clusters = clusters.filter { shard.owns($0.name) }
        return config
    }
}
