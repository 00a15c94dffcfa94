/// When a lane of a cluster runs: the first time soon after start (with jitter, so many
/// clusters do not fire together), then on a fixed grid whose offset within the interval
/// comes from the lane's name, which spreads a fleet's polls evenly and keeps each cluster's
/// rhythm stable.
struct PollSchedule: Sendable {
    let interval: Duration
    let offset: Duration
    let origin: ContinuousClock.Instant

    init(name: String, interval: Duration, origin: ContinuousClock.Instant = .now) {
        self.interval = interval
        self.origin = origin
        let hash = StableHash.fnv1a(name)
        let intervalMs = max(1, interval.milliseconds)
        offset = .milliseconds(Int64(hash % UInt64(intervalMs)))
    }

    func firstPoll() -> ContinuousClock.Instant {
        let window = min(interval, .seconds(1))
        let windowMs = window.milliseconds
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
