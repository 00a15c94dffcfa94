import RedisSoftwareAPI
/// Everything known about one cluster after a poll round. An immutable value: the poller
/// builds a new one each round and the renderer, the landing page and readiness read it.
public struct ClusterSnapshot: Sendable {
    public var name: String
    public var labels: [(name: String, value: String)]
    public var baseURL: String
    /// Unix time at which the latest poll round finished; nil before the first.
    public var polledAt: Double?
    /// The values of the latest round; nil where that endpoint's last request failed, so an
    /// old value is never served as current.
    public var config: OCSPConfig?
    public var status: OCSPStatus?
    public var nodes: [ClusterNode]?
    /// false while the cluster answers ocsp_unsupported_by_capability, true once an OCSP
    /// endpoint answered; nil when the latest round showed neither.
    public var supported: Bool?
    /// One entry per endpoint that is polled, in `Endpoint` order.
    public var endpoints: [EndpointHealth]
    /// One entry per endpoint of the stapling probe, in configured order; empty without one.
    /// Owned by the stapling prober: the store keeps it when the API poller publishes.
    public var stapling: [StaplingProbeState]

    public init(cluster: ClusterConfig) {
        name = cluster.name
        labels = cluster.labels
        baseURL = cluster.baseURL
        endpoints = Endpoint.allCases.filter { $0 != .test || cluster.testInterval != nil }.map(EndpointHealth.init)
        stapling = (cluster.staplingProbe?.endpoints ?? []).map { StaplingProbeState(endpoint: $0.label) }
    }

    public func health(_ endpoint: Endpoint) -> EndpointHealth? {
        endpoints.first { $0.endpoint == endpoint }
    }
}

/// Request statistics of one endpoint of one cluster.
public struct EndpointHealth: Sendable {
    public var endpoint: Endpoint
    /// Whether a request to it has completed yet.
    public var polled = false
    /// The error of the latest request; nil after a success.
    public var error: APIFailure?
    /// Failed requests by error_code, since the exporter started.
    public var errorsTotal: [String: UInt64] = [:]
    public var latency = Histogram()
    public var lastSuccess: Double?

    public init(endpoint: Endpoint) { self.endpoint = endpoint }

    public var up: Bool { polled && error == nil }

    mutating func record<Value>(_ fetch: Fetch<Value>, at now: Double) {
        polled = true
        latency.observe(fetch.duration)
        switch fetch.result {
        case .success:
            error = nil
            lastSuccess = now
        case .failure(let failure):
            error = failure
            errorsTotal[failure.code, default: 0] += 1
        }
    }
}

/// A cumulative latency histogram with the Prometheus client libraries' default buckets.
public struct Histogram: Sendable, Equatable {
    public static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Observations per bucket, not cumulative; the last entry counts those above every bound.
    public var counts = [UInt64](repeating: 0, count: bounds.count + 1)
    public var sum = 0.0
    public var count: UInt64 = 0

    public init() {}

    public mutating func observe(_ value: Double) {
        let index = Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count
        counts[index] += 1
        sum += value
        count += 1
    }
}
