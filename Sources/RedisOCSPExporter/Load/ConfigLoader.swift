import FoundationEssentials
import NIOSSL
import YAML

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

    static func load(root: YAMLNode?, source: String, environment: [String: String], shard: Shard?) throws -> ExporterConfig {
        let config = try Reader.read(root, source: source, environment: environment, knownEndpoints: RESTRound.selectable) { $0.readRoot($1) }
        return config.sharded(shard ?? config.shard)
    }
}
