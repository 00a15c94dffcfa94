/// A `--web.listen-address` value: "host:port", ":port" (all interfaces) or "[v6]:port".
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Not in the 9100-9999 range of Prometheus's default port allocation list, which is
    /// fully allocated; see docs/configuration.md.
    public static let defaultPort = 10044

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.contains(" "), host.contains(":") == text[..<colon].hasPrefix("[") else { return nil }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension ListenAddress {
    /// A URL a person on this host can open: a wildcard address becomes localhost.
    public func browsableURL(tls: Bool = false) -> String {
        let shown = host == "0.0.0.0" || host == "::" ? "localhost" : host
        return "\(tls ? "https" : "http")://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)"
    }
}
