import NIOSSL

/// The validated configuration of one exporter process. Built only by `ConfigLoader`, so a
/// value of this type is always complete and consistent: secrets read, TLS material parsed.
public struct ExporterConfig: Sendable {
    public var pollInterval: Duration
    public var timeout: Duration
    /// Upper bound on REST requests in flight across all clusters.
    public var maxConcurrentRequests: Int
    public var clusters: [ClusterConfig]
    /// How often the rules are evaluated between polls, so `for` and time-based rules fire
    /// without waiting for new data.
    public var evaluationInterval: Duration
    public var rules: RulesConfig
    public var alertmanager: AlertmanagerConfig?
    /// This replica's part of the fleet; `clusters` holds only the clusters it owns.
    public var shard: Shard?

    public static let defaultPollInterval = Duration.seconds(30)
    public static let defaultTimeout = Duration.seconds(10)
    public static let defaultMaxConcurrentRequests = 64
    public static let defaultEvaluationInterval = Duration.seconds(15)

    /// How often a firing alert is sent again, also without an Alertmanager (the rule engine keeps time).
    public var resendInterval: Duration { alertmanager?.resendInterval ?? AlertmanagerConfig.defaultResendInterval }
}

/// Where and how the built-in evaluator's alerts are sent.
public struct AlertmanagerConfig: Sendable {
    /// Base URLs; alerts go to `<url>/api/v2/alerts` of each.
    public var urls: [String]
    public var timeout: Duration
    /// How often a firing alert is sent again (Prometheus's resend delay).
    public var resendInterval: Duration
    public var externalLabels: Labels
    public var authorization: Secret?
    public var tls: TLSConfiguration
    /// Alerts waiting while Alertmanager is unreachable; the oldest are dropped past this.
    public var queueCapacity: Int

    public static let defaultResendInterval = Duration.seconds(60)
}

/// One Redis Software cluster to poll.
public struct ClusterConfig: Sendable {
    public var name: String
    /// Base URL of the REST API without a trailing slash, e.g. "https://re.example.com:9443".
    public var baseURL: String
    public var credentials: Credentials?
    public var pollInterval: Duration
    public var timeout: Duration
    /// How often to POST /v1/ocsp/test; nil (the default) never calls it, since each call makes
    /// the cluster query its OCSP responder.
    public var testInterval: Duration?
    public var tls: TLSConfiguration
    /// Host name the TLS certificate is checked against when it differs from the URL's host.
    public var serverName: String?
    /// Static labels added to every series of this cluster.
    public var labels: Labels
    /// TLS endpoints to check for what they staple; nil when not configured.
    public var staplingProbe: StaplingProbeConfig?
}

/// One host:port the stapling probe connects to.
public struct ProbeEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int

    /// The `endpoint` label, as configured: host:port, with brackets around an IPv6 host.
    public var label: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses "host:port" or "[v6]:port"; nil when either part is missing or invalid.
    public init?(_ text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == " " || $0 == "@" }),
              let number = Int(port), (1...65535).contains(number), port.allSatisfy(\.isASCII)
        else { return nil }
        self.host = String(host)
        self.port = number
    }
}

extension ClusterConfig: Equatable {
    /// Whether two configurations poll the same way; a password read anew from its file
    /// counts, so a rotated secret takes effect on reload.
    public static func == (a: ClusterConfig, b: ClusterConfig) -> Bool {
        a.name == b.name && a.baseURL == b.baseURL && a.credentials == b.credentials && a.pollInterval == b.pollInterval
            && a.timeout == b.timeout && a.testInterval == b.testInterval && a.serverName == b.serverName && a.labels == b.labels
            && a.tls.bestEffortEquals(b.tls) && a.staplingProbe == b.staplingProbe
    }
}

public struct Credentials: Sendable, Equatable {
    public var username: String
    public var password: Secret
}

/// A string that never prints itself, so a secret cannot reach a log line by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}
