import Logging

/// Runs some of a cluster's checks once and says what changed: the scheduler's rounds and
/// /probe both go through here.
enum CheckRound {
    /// A cluster's checks that run together: its REST round, or one check that runs on its own.
    enum Lane: Hashable, Sendable {
        case rest
        case own(String)
    }

    /// The new states of the checks that ran.
    struct Outcome: Sendable {
        var lane: Lane
        /// When the lane's checks finished.
        var finishedAt: Double
        /// The checks that ran, and their new states.
        var ran: [any Check] = []
        var states = CheckStates()
        /// Set by a REST round: the capability and access level it showed.
        var restRound: (supported: Bool?, accessLevel: AccessLevel?)?
    }

    /// Each lane of `cluster` with its checks and interval.
    static func lanes(for cluster: ClusterConfig) -> [(lane: Lane, checks: [any Check], interval: Duration)] {
        var rest: [any Check] = []
        var lanes: [(Lane, [any Check], Duration)] = []
        for check in Checks.all {
            switch check.schedule(for: cluster) {
            case .restRound?: rest.append(check)
            case .own(let interval)?: lanes.append((.own(check.id), [check], interval))
            case nil: break
            }
        }
        return (rest.isEmpty ? [] : [(.rest, rest, cluster.pollInterval)]) + lanes
    }

    /// Runs `checks` on the states in `snapshot`. A REST round requests its endpoints one
    /// after the other over one kept-alive connection (one TLS handshake and one idle
    /// connection per cluster, which is what lets one exporter hold a fleet of thousands);
    /// `concurrently` requests them all at once, for /probe, whose whole round must fit the
    /// scrape timeout.
    static func run(_ lane: Lane, _ checks: [any Check], on snapshot: ClusterSnapshot, context: CheckContext,
                    concurrently: Bool = false) async throws -> Outcome {
        var outcome = Outcome(lane: lane, finishedAt: 0)
        let previous = snapshot.checks
        if concurrently {
            try await withThrowingTaskGroup(of: (Int, CheckStates).self) { group in
                for (index, check) in checks.enumerated() {
                    group.addTask { (index, try await check.run(context, on: previous)) }
                }
                for try await (index, states) in group { checks[index].take(states, into: &outcome.states) }
            }
        } else {
            for check in checks { check.take(try await check.run(context, on: previous), into: &outcome.states) }
        }
        outcome.ran = checks
        outcome.finishedAt = context.now()
        if lane == .rest { finishREST(&outcome, after: snapshot, context: context) }
        return outcome
    }

    /// The one run-once path, for /probe and the `check` command: every lane of `cluster`
    /// once, all at once and each REST round's requests concurrently, on a fresh snapshot.
    /// The REST round takes a slot of `rounds` first, as the scheduler's rounds do; waiting
    /// past `deadline` fails it with `timeout`. A one-off run only reads: the test call (a POST,
    /// which makes the cluster query its responder) runs only on its interval, in the
    /// scheduler. `stapling: false` leaves the stapling probe out.
    static func once(_ cluster: ClusterConfig, stapling: Bool = true, context: CheckContext, rounds: RequestLimiter,
                     deadline: ContinuousClock.Instant) async -> ClusterSnapshot {
        var snapshot = ClusterSnapshot(cluster: cluster)
        let fresh = snapshot
        let lanes = lanes(for: cluster).compactMap { lane, checks, _ -> (Lane, [any Check])? in
            guard lane == .rest else { return stapling ? (lane, checks) : nil }
            let reads = checks.filter { ($0 as? any RESTCheck)?.method == "GET" }
            return reads.isEmpty ? nil : (lane, reads)
        }
        let outcomes = await withTaskGroup(of: Outcome?.self) { group in
            for (lane, checks) in lanes {
                group.addTask {
                    guard lane == .rest else { return try? await run(lane, checks, on: fresh, context: context, concurrently: true) }
                    let start = ContinuousClock.now
                    do {
                        try await rounds.acquire(deadline: deadline)
                    } catch {
                        let failure = CheckFailure(code: CheckFailure.timeout, message: "no free round slot within the deadline")
                        return failed(checks, on: fresh, failure: failure, duration: (ContinuousClock.now - start).seconds, context: context)
                    }
                    defer { rounds.release() }
                    return try? await run(.rest, checks, on: fresh, context: context, concurrently: true)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for outcome in outcomes { if let outcome { snapshot.apply(outcome) } }
        return snapshot
    }

    /// A REST round that could not start (no free slot before the deadline): each of its
    /// checks records `failure`.
    static func failed(_ checks: [any Check], on snapshot: ClusterSnapshot, failure: CheckFailure, duration: Double,
                       context: CheckContext) -> Outcome {
        var outcome = Outcome(lane: .rest, finishedAt: context.now(), ran: checks)
        for case let check as any RESTCheck in checks {
            check.fail(failure, duration: duration, at: context.now(), after: snapshot.checks, into: &outcome.states)
        }
        finishREST(&outcome, after: snapshot, context: context)
        return outcome
    }

    private static func finishREST(_ outcome: inout Outcome, after snapshot: ClusterSnapshot, context: CheckContext) {
        var ocsp: [CheckFailure?] = [], others: [CheckFailure?] = []
        // The states hold only what ran.
        for check in RESTRound.checks {
            guard let health = check.health(in: outcome.states) else { continue }
            if check.isOCSPEndpoint { ocsp.append(health.error) } else { others.append(health.error) }
        }
        let supported = RESTRound.capability(ocsp)
        if let supported, supported != snapshot.supported, snapshot.polledAt != nil {
            context.logger.info("OCSP capability changed", metadata: [
                "cluster": "\(context.cluster.name)", "supported": "\(supported)",
            ])
        }
        let level = AccessLevel.of(ocsp: ocsp, others: others, previous: snapshot.accessLevel)
        if level != snapshot.accessLevel {
            // Only a change is logged; the states after the round name what was refused.
            var after = snapshot
            after.apply(outcome)
            AccessLevel.logChange(from: snapshot.accessLevel, to: level, refused: after.refusedPermissions, context: context)
        }
        outcome.restRound = (supported, level)
    }
}

extension ClusterSnapshot {
    mutating func apply(_ outcome: CheckRound.Outcome) {
        for check in outcome.ran { check.take(outcome.states, into: &checks) }
        // Any lane's round counts, once every lane has run: a cluster watched by its stapling
        // probe alone is as checked as one with REST endpoints.
        unchecked.remove(outcome.lane)
        if unchecked.isEmpty { polledAt = max(polledAt ?? outcome.finishedAt, outcome.finishedAt) }
        if let round = outcome.restRound {
            // A round whose OCSP endpoints both failed otherwise (5xx, timeout) says nothing about capability.
            supported = round.supported ?? supported
            accessLevel = round.accessLevel
        }
    }
}
