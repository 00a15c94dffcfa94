/// A host and a port, written "host:port" or "[v6]:port": the stapling probe's endpoints and
/// the listen address alike.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses "host:port" or "[v6]:port"; nil when either part is missing or invalid.
    /// `anyHost`, when given, is what an empty host (":port") stands for; `ports` bounds the port.
    public init?(_ text: String, anyHost: String? = nil, ports: ClosedRange<Int> = 1...65535) {
        let host: Substring, port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), !host.isEmpty else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.contains(where: { $0 == "/" || $0 == " " || $0 == "@" }), !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(port), ports.contains(number), let resolved = host.isEmpty ? anyHost : String(host)
        else { return nil }
        self.host = resolved
        self.port = number
    }

    /// host:port, with brackets around an IPv6 host: the stapling probe's `endpoint` label.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `--web.listen-address` value: "host:port", ":port" (all interfaces) or "[v6]:port".
public typealias ListenAddress = HostPort

/// One host:port the stapling probe connects to.
typealias ProbeEndpoint = HostPort

extension HostPort {
    /// Not in the 9100-9999 range of Prometheus's default port allocation list, which is
    /// fully allocated; see docs/configuration.md.
    public static let defaultPort = 10044

    /// A listen address: an empty host means every interface, port 0 a free port.
    public init?(listen text: String) {
        self.init(text, anyHost: "0.0.0.0", ports: 0...65535)
    }

    /// A URL a person on this host can open: a wildcard address becomes localhost.
    public func browsableURL(tls: Bool = false) -> String {
        let shown = host == "0.0.0.0" || host == "::" ? "localhost" : host
        return "\(tls ? "https" : "http")://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)"
    }
}
