import FoundationEssentials
import YAML

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
        func scalar(_ s: String) -> YAMLNode { .scalar(.init(s)) }
        func mapping(_ pairs: [(String, YAMLNode)]) -> YAMLNode { .mapping(pairs.map { (YAMLNode.Scalar($0.0), $0.1) }, nil) }
        var cluster: [(String, YAMLNode)] = [("name", scalar(flags.name)), ("url", scalar(flags.url))]
        if let username = flags.username { cluster.append(("username", scalar(username))) }
        if let passwordFile = flags.passwordFile { cluster.append(("password_file", scalar(passwordFile))) }
        var tls: [(String, YAMLNode)] = []
        if let caFile = flags.caFile { tls.append(("ca_file", scalar(caFile))) }
        if flags.insecureSkipVerify { tls.append(("insecure_skip_verify", .scalar(.init("true", isPlain: true)))) }
        if !tls.isEmpty { cluster.append(("tls", mapping(tls))) }
        let root = mapping([("clusters", .sequence([mapping(cluster)], nil))])
        return try load(root: root, source: "command-line flags (--cluster.*)", environment: environment, shard: shard)
    }
}
