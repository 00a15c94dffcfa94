import FoundationEssentials
import NIOSSL
import YAML

/// Walks the YAML tree, turning nodes into typed values and problems into issues.
struct Reader {
    let source: String
    let environment: [String: String]
    var issues: [ConfigError.Issue] = []
    /// Settings that work but weaken what the exporter protects; they do not stop a load.
    var warnings: [ConfigError.Issue] = []
    /// Certificates by file, read once per load: a fleet's clusters often name one CA bundle,
    /// and each parsed copy would cost a few kilobytes per cluster.
    private var certificates: [String: [NIOSSLCertificate]] = [:]

    /// The REST endpoints a cluster's `endpoints:` may name, from the checks that exist.
    let knownEndpoints: [String]

    init(source: String, environment: [String: String], knownEndpoints: [String] = []) {
        self.source = source
        self.environment = environment
        self.knownEndpoints = knownEndpoints
    }

    /// Reads a document with `read`; throws every problem at once, naming `source`.
    static func read<T>(_ root: YAMLNode?, source: String, environment: [String: String], knownEndpoints: [String] = [],
                        _ read: (inout Reader, YAMLNode?) -> T?) throws -> T {
        var reader = Reader(source: source, environment: environment, knownEndpoints: knownEndpoints)
        let value = read(&reader, root)
        guard reader.issues.isEmpty, let value else { throw ConfigError(source: source, issues: reader.sortedIssues) }
        return value
    }

    /// Issues in document order, which is how a person fixes them.
    var sortedIssues: [ConfigError.Issue] {
        issues.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
    }

    mutating func issue(_ field: String, _ node: YAMLNode?, _ message: String) {
        issues.append(.init(field: field, message: message, line: node?.mark?.line))
    }

    mutating func warn(_ field: String, _ node: YAMLNode?, _ message: String) {
        warnings.append(.init(field: field, message: message, line: node?.mark?.line))
    }

    /// The entries of a mapping, with unknown and duplicate keys reported.
    mutating func mapping(_ node: YAMLNode?, _ field: String, allowed: [String]) -> [String: YAMLNode]? {
        guard let node else { return [:] }
        guard case .mapping(let pairs, _) = node else {
            if case .scalar(let s) = node, s.string.isEmpty || s.string == "~" || s.string == "null" { return [:] }
            issue(field, node, "must be a mapping")
            return nil
        }
        var result: [String: YAMLNode] = [:]
        // Keys are unique scalars: the YAML composer refuses anything else.
        for (key, value) in pairs {
            let path = field.isEmpty ? key.string : "\(field).\(key.string)"
            if !allowed.isEmpty, !allowed.contains(key.string) {
                issue(path, .scalar(key), "unknown field (known: \(allowed.joined(separator: ", ")))")
            } else {
                result[key.string] = value
            }
        }
        return result
    }

    mutating func string(_ node: YAMLNode?, _ field: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            issue(field, node, "must be a string")
            return nil
        }
        return scalar.string
    }

    mutating func bool(_ node: YAMLNode?, _ field: String) -> Bool? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node, let value = scalar.bool else {
            issue(field, node, "must be true or false")
            return nil
        }
        return value
    }

    mutating func int(_ node: YAMLNode?, _ field: String, range: ClosedRange<Int>) -> Int? {
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

    mutating func duration(_ node: YAMLNode?, _ field: String, allowZero: Bool = false) -> Duration? {
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
    mutating func path(_ node: YAMLNode?, _ field: String) -> String? {
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
        while let start = rest.firstRange(of: "${") {
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
    mutating func secretFile(_ node: YAMLNode?, _ field: String) -> String? {
        guard let path = path(node, field) else { return nil }
        switch ConfigFile.secret(path) {
        case .success(let secret): return secret
        case .failure(let error):
            issue(field, node, "cannot read \(path): \(error.reason)")
            return nil
        }
    }

    /// A TLS server name (SNI): a host name, no port or path.
    mutating func hostName(_ node: YAMLNode?, _ field: String) -> String? {
        guard let name = string(node, field) else { return nil }
        guard !name.isEmpty, !name.contains(where: { $0 == "/" || $0 == ":" || $0 == " " }) else {
            issue(field, node, "must be a host name")
            return nil
        }
        return name
    }

    /// The certificates of a PEM file the field names; nil, with the reason reported, when
    /// there are none.
    mutating func pemCertificates(_ node: YAMLNode?, _ field: String) -> [NIOSSLCertificate]? {
        guard let node, let path = path(node, field) else { return nil }
        if let known = certificates[path] { return known }
        if let problem = ConfigFile.problem(path) {
            issue(field, node, "cannot read \(path): \(problem)")
            return nil
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMFile(path), !certificates.isEmpty else {
            issue(field, node, "\(path) holds no valid PEM certificate")
            return nil
        }
        self.certificates[path] = certificates
        return certificates
    }

    /// The private key of a PEM file the field names. Messages give the path, never the content.
    mutating func pemPrivateKey(_ node: YAMLNode?, _ field: String) -> NIOSSLPrivateKey? {
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
}
