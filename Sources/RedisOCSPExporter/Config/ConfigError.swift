/// Everything wrong with a configuration, each problem naming where it is.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public struct Issue: Sendable, CustomStringConvertible {
        /// Path of the offending field, e.g. `clusters[1] (prod-east).tls.ca_file`.
        public var field: String
        public var message: String
        public var line: Int?

        public var description: String {
            (line.map { "line \($0): " } ?? "") + (field.isEmpty ? message : "\(field): \(message)")
        }
    }

    /// The file or other source the configuration came from.
    public var source: String
    public var issues: [Issue]

    public var description: String {
        issues.map { "\(source): \($0)" }.joined(separator: "\n")
    }
}
