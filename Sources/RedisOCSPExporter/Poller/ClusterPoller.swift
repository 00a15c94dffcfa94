import RedisSoftwareAPI
import Foundation
import Logging

/// Polls one cluster on its interval and publishes a new snapshot after every round.
struct ClusterPoller: Sendable {
    let cluster: ClusterConfig
    let client: ClusterClient
    /// Where each new snapshot goes: the store and the rule evaluator.
    let publish: @Sendable (ClusterSnapshot) -> Void
    let logger: Logger
    /// Wall-clock time in Unix seconds; injectable so tests can control it.
    let now: @Sendable () -> Double
    /// The snapshot to continue from: a restarted poller keeps its counters.
    let start: ClusterSnapshot

    func run() async {
        var snapshot = start
        let schedule = PollSchedule(name: cluster.name, interval: cluster.pollInterval)
        var nextTest: ContinuousClock.Instant? = cluster.testInterval.map { _ in .now }
        do {
            try await Task.sleep(until: schedule.firstPoll(), clock: .continuous)
            while true {
                let runTest = nextTest.map { $0 <= .now } ?? false
                if runTest, let interval = cluster.testInterval { nextTest = .now + interval }
                snapshot = try await pollRound(after: snapshot, runTest: runTest)
                publish(snapshot)
                try await Task.sleep(until: schedule.next(after: .now), clock: .continuous)
            }
        } catch {
            // Cancellation: the exporter is shutting down.
        }
    }

    /// One round. By default the endpoints are requested one after the other over one kept-alive
    /// connection: one TLS handshake and one idle connection per cluster, which is what lets a
    /// single exporter hold a fleet of thousands. `concurrently` requests them all at once
    /// (for /probe, whose whole round must fit the scrape timeout).
    func pollRound(after previous: ClusterSnapshot, runTest: Bool, concurrently: Bool = false) async throws -> ClusterSnapshot {
        if concurrently {
            async let config = client.fetch(.config, as: OCSPConfig.self)
            async let status = client.fetch(.status, as: OCSPStatus.self)
            async let nodes = client.fetch(.nodes, as: [ClusterNode].self)
            async let test: Fetch<OCSPStatus>? = runTest ? client.fetch(.test, as: OCSPStatus.self) : nil
            let results = try await (config, status, nodes, test)
            return apply(results.0, results.1, results.2, results.3, to: previous)
        }
        let config = try await client.fetch(.config, as: OCSPConfig.self)
        let status = try await client.fetch(.status, as: OCSPStatus.self)
        let nodes = try await client.fetch(.nodes, as: [ClusterNode].self)
        let test = runTest ? try await client.fetch(.test, as: OCSPStatus.self) : nil
        return apply(config, status, nodes, test, to: previous)
    }

    func apply(
        _ config: Fetch<OCSPConfig>, _ status: Fetch<OCSPStatus>, _ nodes: Fetch<[ClusterNode]>, _ test: Fetch<OCSPStatus>?,
        to previous: ClusterSnapshot
    ) -> ClusterSnapshot {
        let at = now()
        var next = previous
        next.config = record(config, .config, into: &next)
        next.status = record(status, .status, into: &next)
        next.nodes = record(nodes, .nodes, into: &next)
        if let test { _ = record(test, .test, into: &next) }
        next.polledAt = at

        let ocspResults = [config.result.map { _ in () }, status.result.map { _ in () }]
            + (test.map { [$0.result.map { _ in () }] } ?? [])
        if ocspResults.contains(where: { if case .failure(let f) = $0 { f.code == APIFailure.unsupported } else { false } }) {
            next.supported = false
        } else if ocspResults.contains(where: { if case .success = $0 { true } else { false } }) {
            next.supported = true
        } else {
            next.supported = nil
        }
        if next.supported != previous.supported, previous.polledAt != nil {
            logger.info("OCSP capability changed", metadata: ["cluster": "\(cluster.name)", "supported": "\(next.supported.map(String.init) ?? "unknown")"])
        }
        logDateProblems(previous.status, next.status)
        return next
    }

    private func record<Value>(_ fetch: Fetch<Value>, _ endpoint: Endpoint, into snapshot: inout ClusterSnapshot) -> Value? {
        guard let index = snapshot.endpoints.firstIndex(where: { $0.endpoint == endpoint }) else { return nil }
        let before = snapshot.endpoints[index].error
        snapshot.endpoints[index].record(fetch, at: now())
        let after = snapshot.endpoints[index].error
        // Log transitions only, so a cluster that is down for a day writes two lines, not thousands.
        var metadata: Logger.Metadata = ["cluster": "\(cluster.name)", "endpoint": "\(endpoint.rawValue)"]
        if let after, after != before {
            metadata["error_code"] = "\(after.code)"
            metadata["error"] = "\(after.message)"
            logger.warning("REST API request failed", metadata: metadata)
        } else if after == nil, let before {
            metadata["previous_error_code"] = "\(before.code)"
            logger.info("REST API request succeeds again", metadata: metadata)
        }
        return try? fetch.result.get()
    }

    private func logDateProblems(_ previous: OCSPStatus?, _ current: OCSPStatus?) {
        let before = previous?.unparsedDates ?? [:]
        guard let current, current.unparsedDates != before else { return }
        for (field, text) in current.unparsedDates.sorted(by: { $0.key < $1.key }) where before[field] != text {
            logger.warning("OCSP status date is not an HTTP date; its series is left out", metadata: [
                "cluster": "\(cluster.name)", "field": "\(field)", "value": "\(text.prefix(100))",
            ])
        }
    }
}

/// When a cluster is polled: the first time soon after start (with jitter, so many clusters do
/// not fire together), then on a fixed grid whose offset within the interval comes from the
/// cluster's name, which spreads a fleet's polls evenly and keeps each cluster's rhythm stable.
struct PollSchedule: Sendable {
    let interval: Duration
    let offset: Duration
    let origin: ContinuousClock.Instant

    init(name: String, interval: Duration, origin: ContinuousClock.Instant = .now) {
        self.interval = interval
        self.origin = origin
        let hash = StableHash.fnv1a(name)
        let intervalMs = max(1, interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
        offset = .milliseconds(Int64(hash % UInt64(intervalMs)))
    }

    func firstPoll() -> ContinuousClock.Instant {
        let window = min(interval, .seconds(1))
        let windowMs = window.components.seconds * 1000 + window.components.attoseconds / 1_000_000_000_000_000
        return origin + .milliseconds(Int64.random(in: 0...max(0, windowMs)))
    }

    /// The first grid point after `instant`, at least half an interval away so a slow round
    /// is not followed by an immediate second one.
    func next(after instant: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let elapsed = instant - origin - offset
        let periods = Int64((elapsed / interval).rounded(.down)) + 1
        var candidate = origin + offset + interval * periods
        if candidate - instant < interval / 2 { candidate += interval }
        return candidate
    }
}
