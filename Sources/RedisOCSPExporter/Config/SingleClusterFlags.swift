import Foundation
import Yams

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
