/// When a lane of a cluster runs: the first time soon after start (with jitter, so many
/// clusters do not fire together), then on a fixed grid whose offset within the interval
/// comes from the lane's name, which spreads a fleet's polls over the interval and keeps each
/// cluster's rhythm stable. Offsets are whole slots: the lanes whose offsets share a slot run
/// together, so the exporter wakes once per slot and runs its rounds back to back while its
/// code and data are still in the caches. Woken for each round alone, a poll cost twice the
/// CPU (docs/performance.md).
struct PollSchedule: Sendable {
    let interval: Duration
    let offset: Duration
    let origin: ContinuousClock.Instant

    /// Rounds a slot holds at most, on average: few enough that the rounds of one slot barely
    /// wait for each other (a request's measured duration stays the cluster's), enough to keep
    /// the code warm.
    static let roundsPerSlot = 32.0

    init(name: String, interval: Duration, slot: Duration, origin: ContinuousClock.Instant = .now) {
        self.interval = interval
        self.origin = origin
        let hash = StableHash.fnv1a(name)
        let intervalMs = max(1, interval.milliseconds)
        let slotMs = max(1, slot.milliseconds)
        offset = .milliseconds(Int64(hash % UInt64(intervalMs)) / slotMs * slotMs)
    }

    /// The slot width for a fleet whose lanes have `intervals`: one second while the fleet runs
    /// up to `roundsPerSlot` rounds a second, else halved until a slot holds no more (so a
    /// change of fleet size moves each lane by less than a slot, and only when it doubles).
    static func slot(intervals: some Sequence<Duration>) -> Duration {
        let rate = intervals.reduce(0.0) { $0 + 1 / max($1.seconds, 0.001) }
        var slot = Duration.seconds(1)
        while rate * slot.seconds > roundsPerSlot, slot > .milliseconds(1) { slot /= 2 }
        return slot
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
