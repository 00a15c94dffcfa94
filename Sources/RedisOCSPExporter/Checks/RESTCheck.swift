import RedisSoftwareAPI

/// A check that is one request to the cluster's REST API. It runs in the cluster's REST
/// round; the request statistics (api_up, api_error, ...) are the round's families, shared
/// by every REST check under its `endpoint` label.
protocol RESTCheck: Check where State == RESTState<Value> {
    associatedtype Value: APIObject
    var method: String { get }
    var path: String { get }
    /// The REST API permission the request needs, named where a user lacks it.
    var permission: String { get }
    /// One of the OCSP endpoints: their permissions belong to the admin role only, and their
    /// answers tell whether the cluster supports OCSP (ocsp_unsupported_by_capability).
    var isOCSPEndpoint: Bool { get }
    /// Whether a cluster's `endpoints:` may name it; a selectable check is polled while that is not set.
    var selectable: Bool { get }
    /// Writes the samples of the latest answer.
    func render(answer: Value, into samples: inout ClusterSamples)
    /// Logs what only this check knows to look for, on a change from `before` to `after`.
    func logChanges(from before: Value?, to after: Value?, context: CheckContext)
    /// What a request's outcome means for this endpoint (a 404 can be an answer).
    func interpret(_ fetch: Fetch<Value>) -> Fetch<Value>
    /// Whether the state already says all there is to ask, so no request is made.
    func isSettled(_ state: State) -> Bool
    // Implemented below; requirements for the reason `Check.take` is.
    func health(in states: CheckStates) -> EndpointHealth?
    func fail(_ failure: CheckFailure, duration: Double, at now: Double, after snapshot: CheckStates, into states: inout CheckStates)
}

extension RESTCheck {
    var method: String { "GET" }
    var isOCSPEndpoint: Bool { true }
    var selectable: Bool { true }

    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.endpoints.map { $0.contains(id) } ?? true ? .restRound(every: nil) : nil
    }
    func initialState(for cluster: ClusterConfig) -> State { RESTState(health: EndpointHealth(endpoint: id)) }
    func logChanges(from before: Value?, to after: Value?, context: CheckContext) {}
    func interpret(_ fetch: Fetch<Value>) -> Fetch<Value> { fetch }
    func isSettled(_ state: State) -> Bool { false }

    func run(_ context: CheckContext, previous: State, seen: CheckStates) async throws -> State {
        guard !isSettled(previous) else { return previous }
        let fetch = interpret(try await context.client.fetch(method: method, path: path, as: Value.self))
        var next = previous
        next.record(fetch, at: context.now())
        logTransition(context.logger, cluster: context.cluster.name, check: id, endpoint: id, from: previous.health.error,
                      to: next.health.error)
        logChanges(from: previous.value, to: next.value, context: context)
        return next
    }

    func render(_ state: State, into samples: inout ClusterSamples) {
        if let value = state.value { render(answer: value, into: &samples) }
    }

    /// The request statistics in `states`; nil where the cluster does not run the check.
    func health(in states: CheckStates) -> EndpointHealth? { states[keyPath: Self.state]?.health }

    /// Records a request that could not be made, on the state in `snapshot`, into `states`.
    func fail(_ failure: CheckFailure, duration: Double, at now: Double, after snapshot: CheckStates, into states: inout CheckStates) {
        guard var state = snapshot[keyPath: Self.state] else { return }
        state.fail(failure, duration: duration, at: now)
        states[keyPath: Self.state] = state
    }
}

/// What a REST check keeps: the latest answer and the request statistics.
struct RESTState<Value: Sendable>: Sendable {
    var health: EndpointHealth
    /// nil where the latest request failed, so an old value is never served as current.
    var value: Value?

    mutating func record(_ fetch: Fetch<Value>, at now: Double) {
        health.record(fetch, at: now)
        value = try? fetch.result.get()
    }

    mutating func fail(_ failure: CheckFailure, duration: Double, at now: Double) {
        record(Fetch(result: .failure(failure), duration: duration), at: now)
    }
}

/// Request statistics of one endpoint of one cluster.
struct EndpointHealth: Sendable {
    /// The check's id: the `endpoint` label.
    var endpoint: String
    /// Whether a request to it has completed yet.
    var polled = false
    /// The error of the latest request; nil after a success.
    var error: CheckFailure?
    /// Failed requests by error_code, since the exporter started.
    var errorsTotal: [String: UInt64] = [:]
    var latency = Histogram()
    var lastSuccess: Double?
    /// The `host:port` that answered the latest request, after any redirects.
    var answeredBy: String?

    init(endpoint: String) { self.endpoint = endpoint }

    var up: Bool { polled && error == nil }

    mutating func record<Value>(_ fetch: Fetch<Value>, at now: Double) {
        polled = true
        latency.observe(fetch.duration)
        answeredBy = fetch.answeredBy
        switch fetch.result {
        case .success:
            error = nil
            lastSuccess = now
        case .failure(let failure):
            let failure = failure.bounded(seen: errorsTotal.keys)
            error = failure
            errorsTotal[failure.code, default: 0] += 1
        }
    }
}

/// The families every REST check shares, under its `endpoint` label, and the capability
/// the OCSP endpoints' answers show together.
enum RESTRound {
    /// The REST checks of `Checks.all`, in its order: cast once, not on every round.
    static let checks: [any RESTCheck] = Checks.all.compactMap { $0 as? any RESTCheck }

    /// What a cluster's `endpoints:` may list.
    static let selectable: [String] = checks.compactMap { $0.selectable ? $0.id : nil }

    static let families: [ClusterFamily] = [.supported, .accessLevel, .apiUp, .apiError, .apiErrorsTotal, .apiRequestDuration, .lastSuccess, .apiAnsweredBy]

    /// false while an OCSP endpoint of the round answered ocsp_unsupported_by_capability, true
    /// when one answered; nil when the round showed neither.
    static func capability(_ results: [CheckFailure?]) -> Bool? {
        if results.contains(where: { $0?.code == CheckFailure.unsupported }) { return false }
        return results.contains { $0 == nil } ? true : nil
    }

    static func render(_ snapshot: ClusterSnapshot, into samples: inout ClusterSamples) {
        samples.gauge(.supported, snapshot.supported.map { $0 ? 1 : 0 })
        if let level = snapshot.accessLevel {
            samples.write(.accessLevel) { w in
                for candidate in AccessLevel.allCases {
                    w.sample(ClusterFamily.accessLevel.name, [("level", candidate.rawValue)], candidate == level ? 1 : 0)
                }
            }
        }
        let polled = snapshot.endpoints.filter(\.polled)
        func perEndpoint(_ family: ClusterFamily, _ body: (inout SampleWriter, EndpointHealth, [(String, String)]) -> Void) {
            samples.write(family) { w in
                for health in polled { body(&w, health, [("endpoint", health.endpoint)]) }
            }
        }
        perEndpoint(.apiUp) { w, h, l in w.sample(ClusterFamily.apiUp.name, l, h.up ? 1 : 0) }
        perEndpoint(.apiError) { w, h, l in
            if let error = h.error { w.sample(ClusterFamily.apiError.name, l + [("error_code", error.code)], 1) }
        }
        perEndpoint(.apiErrorsTotal) { w, h, l in
            for (code, count) in h.errorsTotal.sorted(by: { $0.key < $1.key }) {
                w.sample(ClusterFamily.apiErrorsTotal.name, l + [("error_code", code)], Double(count))
            }
        }
        perEndpoint(.apiRequestDuration) { w, h, l in w.histogram(ClusterFamily.apiRequestDuration.name, l, h.latency) }
        perEndpoint(.lastSuccess) { w, h, l in
            if let at = h.lastSuccess { w.sample(ClusterFamily.lastSuccess.name, l, at) }
        }
        perEndpoint(.apiAnsweredBy) { w, h, l in
            if let address = h.answeredBy { w.sample(ClusterFamily.apiAnsweredBy.name, l + [("address", address)], 1) }
        }
    }
}

extension ClusterFamily {
    static let supported = ClusterFamily("redis_ocsp_supported", .gauge, "0 while the cluster answers ocsp_unsupported_by_capability (not all nodes support OCSP), 1 once an OCSP endpoint answered.")
    static let apiUp = ClusterFamily("redis_ocsp_api_up", .gauge, "1 if the last request to the endpoint succeeded (2xx and a valid body), else 0.")
    static let apiError = ClusterFamily("redis_ocsp_api_error", .gauge, "1 for the current error of the endpoint, by error_code; absent while the endpoint is up.")
    static let apiErrorsTotal = ClusterFamily("redis_ocsp_api_errors_total", .counter, "Failed REST API requests, by endpoint and error_code.")
    static let apiRequestDuration = ClusterFamily("redis_ocsp_api_request_duration_seconds", .histogram, "REST API request latency, including reading the body.")
    static let apiAnsweredBy = ClusterFamily("redis_ocsp_api_answered_by_info", .gauge, "The host:port that answered the endpoint's latest request: the configured one, or the target of a redirect that was followed.")
    static let lastSuccess = ClusterFamily("redis_ocsp_last_success_timestamp_seconds", .gauge, "Unix time of the last successful request to the endpoint.")
}
