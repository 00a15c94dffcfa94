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

    public static let defaultPollInterval = Duration.seconds(30)
    public static let defaultTimeout = Duration.seconds(10)
    public static let defaultMaxConcurrentRequests = 64
    public static let defaultEvaluationInterval = Duration.seconds(15)
}

/// Where and how the built-in evaluator's alerts are sent.
public struct AlertmanagerConfig: Sendable {
    /// Base URLs; alerts go to `<url>/api/v2/alerts` of each.
    public var urls: [String]
    public var timeout: Duration
    /// How often a firing alert is sent again (Prometheus's resend delay).
    public var resendInterval: Duration
    public var externalLabels: [(name: String, value: String)]
    public var authorization: Secret?
    public var tls: TLSConfiguration
    /// Alerts waiting while Alertmanager is unreachable; the oldest are dropped past this.
    public var queueCapacity: Int
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
    /// Static labels, sorted by name, added to every series of this cluster.
    public var labels: [(name: String, value: String)]
}

public struct Credentials: Sendable {
    public var username: String
    public var password: Secret
}

/// A string that never prints itself, so a secret cannot reach a log line by accident.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
}
