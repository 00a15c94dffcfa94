import FoundationEssentials
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Runs every cluster's checks when they are due. One priority queue of due (cluster, lane)
/// pairs and one loop: a due pair gets a short-lived task, and a REST round one slot of the
/// bound on work in flight, so nothing waits in a task between rounds. Applies new
/// configurations: only the clusters that were added, removed or changed are touched.
actor Scheduler: Service {
    private struct JobKey: Hashable, Sendable {
        var cluster: String
        var lane: CheckRound.Lane
    }

    private struct Job: Sendable {
        var checks: [any Check]
        var context: CheckContext
        var schedule: PollSchedule
        /// The configuration of the cluster the job runs for (see `ClusterSnapshot.epoch`).
        var epoch: UInt64
        /// Tells this job from an earlier one of the same key, whose queue entries are stale.
        var token: UInt64
        /// The loop every round of the cluster runs on: the one its kept-alive connection
        /// was opened on, so that a request and its answer never change threads.
        var executor: LoopTaskExecutor
        /// When each check with a longer interval of its own last ran.
        var lastRun: [String: ContinuousClock.Instant] = [:]

        /// The checks due in a round starting at `now`.
        func due(at now: ContinuousClock.Instant) -> [any Check] {
            checks.filter { check in
                guard case .restRound(let every?)? = check.schedule(for: context.cluster), let last = lastRun[check.id] else { return true }
                return now - last >= every
            }
        }
    }

    /// What the loop and the round tasks share.
    private struct Work: Sendable {
        var jobs: [JobKey: Job] = [:]
        /// Entries whose token no longer matches their job are skipped.
        var queue = DueQueue<(key: JobKey, token: UInt64)>()
        var running: [JobKey: Task<Void, Never>] = [:]
        var limiter: RequestLimiter
        var nextToken: UInt64 = 0
    }

    /// How long a cluster's connection stays open after an answer. An idle TLS connection
    /// holds about 28 KB (BoringSSL's and NIOSSL's state, see docs/performance.md), so only
    /// the first `ExporterConfig.idleConnections` clusters keep theirs for the next poll and
    /// skip its handshake; the others keep it for their round only: long enough for the round's
    /// next request, which follows at once, and no longer.
    static func idleTimeout(keptAlive: Bool) -> TimeAmount {
        keptAlive ? .seconds(90) : .milliseconds(250)
    }

    let store: SnapshotStore
    /// Called with each entry a round stored (the renderer and the rule engine).
    let published: @Sendable (SnapshotStore.Entry) -> Void
    let logger: Logger
    let now: @Sendable () -> Double
    private var config: ExporterConfig
    /// The clusters that keep their connection between polls.
    private var keptAlive: Set<String> = []
    private let work: NIOLockedValueBox<Work>
    private let alarm = Alarm()

    init(config: ExporterConfig, store: SnapshotStore, logger: Logger,
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                published: @escaping @Sendable (SnapshotStore.Entry) -> Void) {
        self.config = config
        self.store = store
        self.published = published
        self.logger = logger
        self.now = now
        work = NIOLockedValueBox(Work(limiter: RequestLimiter(limit: config.maxConcurrentRounds)))
    }

    func run() async throws {
        await apply(config)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.loop() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await stop { _ in true }
    }

    /// Starts and stops jobs so that exactly `newConfig`'s clusters are checked.
    func apply(_ newConfig: ExporterConfig) async {
        // Clusters whose settings are unchanged keep their jobs and data.
        let current = Dictionary(config.clusters.map { ($0.name, $0) }) { first, _ in first }
        let unchanged = Set(newConfig.clusters.filter { current[$0.name] == $0 }.map(\.name))
        // The first idleConnections clusters keep their connection between polls. One that
        // moves between the clients keeps its data; its job starts again on the other client.
        let keep = Set(newConfig.clusters.prefix(newConfig.idleConnections).map(\.name))
        let moved = unchanged.filter { keep.contains($0) != keptAlive.contains($0) }
        // Removed and changed clusters stop.
        await stop { !unchanged.contains($0) || moved.contains($0) }
        let epochs = store.setClusters(newConfig.clusters, keeping: unchanged)
        keptAlive = keep
        let (logger, now) = (self.logger, self.now)
        let lanes = newConfig.clusters.map(CheckRound.lanes(for:))
        let slot = PollSchedule.slot(intervals: lanes.joined().lazy.map(\.interval))
        work.withLockedValue { w in
            if newConfig.maxConcurrentRounds != config.maxConcurrentRounds {
                // Rounds in flight give their slots back to the limiter they took them from.
                w.limiter = RequestLimiter(limit: newConfig.maxConcurrentRounds)
            }
            for (cluster, lanes) in zip(newConfig.clusters, lanes) {
                let client = ClusterClient(cluster: cluster, idleTimeout: Self.idleTimeout(keptAlive: keep.contains(cluster.name)))
                let context = CheckContext(cluster: cluster, client: client, logger: logger, now: now)
                let executor = LoopTaskExecutor.next()
                for (lane, checks, interval) in lanes {
                    let key = JobKey(cluster: cluster.name, lane: lane)
                    guard w.jobs[key] == nil, let epoch = epochs[cluster.name] else { continue }
                    w.nextToken += 1
                    let name = lane == .rest ? cluster.name : "\(cluster.name)/\(checks[0].id)"
                    let schedule = PollSchedule(name: name, interval: interval, slot: slot)
                    w.jobs[key] = Job(checks: checks, context: context, schedule: schedule, epoch: epoch, token: w.nextToken,
                                      executor: executor)
                    w.queue.insert((key, w.nextToken), due: schedule.firstPoll())
                }
            }
        }
        config = newConfig
        alarm.ring()
    }

    /// Takes due jobs off the queue, in due order, until cancelled.
    private nonisolated func loop() async {
        enum Next { case run(JobKey, Job, RequestLimiter), wait(ContinuousClock.Instant?) }
        while !Task.isCancelled {
            let next = work.withLockedValue { w -> Next in
                while let (key, token) = w.queue.popDue(at: .now) {
                    if let job = w.jobs[key], job.token == token, w.running[key] == nil { return .run(key, job, w.limiter) }
                }
                return .wait(w.queue.nextDue)
            }
            switch next {
            case .wait(let due):
                await alarm.wait(until: due ?? .now + .seconds(3600))
            case .run(let key, let job, let limiter):
                if key.lane == .rest {
                    // Waits here, not in a task per cluster: a saturated fleet queues as entries.
                    guard (try? await limiter.acquire(deadline: .now + .seconds(365 * 86400))) != nil else { return }
                }
                start(key, job, limiter: key.lane == .rest ? limiter : nil)
            }
        }
    }

    private nonisolated func start(_ key: JobKey, _ job: Job, limiter: RequestLimiter?) {
        work.withLockedValue { w in
            // Removed or replaced while the loop waited for a slot.
            guard w.jobs[key]?.token == job.token else {
                limiter?.release()
                return
            }
            // Made under the lock, so the task's own removal from `running` comes after this.
            w.running[key] = Task(executorPreference: job.executor) {
                let started = ContinuousClock.now
                let ran = job.due(at: started)
                await self.execute(key, job, ran)
                limiter?.release()
                self.finished(key, token: job.token, ran: ran.map(\.id), at: started)
            }
        }
    }

    private nonisolated func execute(_ key: JobKey, _ job: Job, _ checks: [any Check]) async {
        guard let snapshot = store.snapshot(key.cluster), snapshot.epoch == job.epoch,
              let outcome = try? await CheckRound.run(key.lane, checks, on: snapshot, context: job.context)
        else { return }
        if let stored = store.apply(outcome, cluster: key.cluster, epoch: job.epoch) { published(stored) }
    }

    private nonisolated func finished(_ key: JobKey, token: UInt64, ran: [String], at started: ContinuousClock.Instant) {
        let earlier = work.withLockedValue { w -> Bool in
            w.running[key] = nil
            guard let due = Self.record(ran, at: started, token: token, in: &w.jobs[key]) else { return false }
            let earlier = w.queue.nextDue.map { due < $0 } ?? true
            w.queue.insert((key, token), due: due)
            return earlier
        }
        // The loop sleeps until the earliest entry; only an earlier one needs to wake it.
        if earlier { alarm.ring() }
    }

    /// Records in `job` (in place: a copy would copy its table of last runs) when the checks
    /// `ran` last ran, and returns when it is due next; nil when the job was replaced meanwhile.
    private static func record(_ ran: [String], at started: ContinuousClock.Instant, token: UInt64, in job: inout Job?) -> ContinuousClock.Instant? {
        guard job?.token == token else { return nil }
        for id in ran { job?.lastRun[id] = started }
        return job?.schedule.next(after: .now)
    }

    /// Rounds running now; between rounds, none.
    nonisolated var roundsInFlight: Int { work.withLockedValue { $0.running.count } }

    /// Entries in the queue: one per lane of each cluster whose round is not running.
    nonisolated var queued: Int { work.withLockedValue { $0.queue.count } }

    /// Stops the jobs of the clusters `matching` picks, waiting for their rounds in flight.
    private func stop(_ matching: (String) -> Bool) async {
        let (stopping, clients) = work.withLockedValue { w -> ([Task<Void, Never>], [ClusterClient]) in
            let keys = w.jobs.keys.filter { matching($0.cluster) }
            let clients = keys.compactMap { w.jobs.removeValue(forKey: $0)?.context.client }
            return (keys.compactMap { w.running.removeValue(forKey: $0) }, clients)
        }
        for task in stopping { task.cancel() }
        for task in stopping { await task.value }
        for client in clients { client.connections.close() }
    }

    /// Runs one configured cluster's checks now (`CheckRound.once`), apart from its jobs and
    /// without touching the store, for /probe: each bounded by `limit` as well as by the
    /// cluster's own timeouts. Returns nil for an unknown cluster.
    func probe(_ name: String, limit: Duration) async -> ClusterSnapshot? {
        guard var cluster = config.clusters.first(where: { $0.name == name }) else { return nil }
        cluster.timeout = min(cluster.timeout, limit)
        if let probeTimeout = cluster.staplingProbe?.timeout { cluster.staplingProbe?.timeout = min(probeTimeout, limit) }
        // One-off runs would log every error as new; the jobs report transitions.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        let client = ClusterClient(cluster: cluster, idleTimeout: Self.idleTimeout(keptAlive: false))
        defer { client.connections.close() }
        let context = CheckContext(cluster: cluster, client: client, logger: quiet, now: now)
        return await CheckRound.once(cluster, context: context, rounds: work.withLockedValue { $0.limiter },
                                     deadline: ContinuousClock.now + limit)
    }
}
