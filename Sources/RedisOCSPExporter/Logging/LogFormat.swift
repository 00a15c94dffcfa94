import FoundationEssentials
import Glibc
import Logging

/// Log lines in the formats Prometheus components use: logfmt (the default) or JSON.
public struct ExporterLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void

    public init(label: String, level: Logger.Level, format: Format,
                write: @escaping @Sendable (String) -> Void = { line in StandardStream.write(line, to: STDERR_FILENO) }) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", RFC3339.format(Date())), ("level", Self.levelName(event.level)), ("msg", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { fields.append((key, value.description)) }
        write(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isControl }
            guard needsQuotes else { return "\(key)=\(value)" }
            // Control characters as escapes: text a server sent can neither end this line nor drive a terminal.
            let escaped = value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
                .escapingControlCharacters
            return "\(key)=\"\(escaped)\""
        }.joined(separator: " ") + "\n"
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\(jsonString($0)):\(jsonString($1))" }.joined(separator: ",") + "}\n"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.isControl:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
