import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct DueQueueTests {
    @Test func itemsComeOutInDueOrderAndEqualTimesInArrivalOrder() {
        var queue = DueQueue<Int>()
        let origin = ContinuousClock.now
        var expected: [(Int, Int)] = []
        for item in 0..<500 {
            let offset = Int.random(in: 0..<50)
            queue.insert(item, due: origin + .milliseconds(offset))
            expected.append((offset, item))
        }
        expected.sort { $0 < $1 }
        #expect(queue.popDue(at: origin - .seconds(1)) == nil, "nothing is due before its time")
        var popped: [Int] = []
        while let item = queue.popDue(at: origin + .seconds(1)) { popped.append(item) }
        #expect(popped == expected.map(\.1))
        #expect(queue.isEmpty)
    }

    @Test func onlyDueItemsArePopped() {
        var queue = DueQueue<String>()
        let origin = ContinuousClock.now
        queue.insert("later", due: origin + .seconds(10))
        queue.insert("now", due: origin)
        #expect(queue.popDue(at: origin) == "now")
        #expect(queue.popDue(at: origin + .seconds(9)) == nil)
        #expect(queue.nextDue == origin + .seconds(10))
    }
}

@Suite(.tags(.unit))
struct PollScheduleTests {
    @Test func roundsStayOnTheClustersGridAndAtLeastHalfAnIntervalApart() {
        let origin = ContinuousClock.now
        let schedule = PollSchedule(name: "cluster-a", interval: .seconds(30), slot: .milliseconds(250), origin: origin)
        #expect(schedule.firstPoll() <= origin + .seconds(1))
        var at = origin
        for _ in 0..<20 {
            let next = schedule.next(after: at)
            #expect(next - at >= .seconds(15))
            // On the grid: a whole number of intervals past the cluster's offset.
            let periods = (next - origin - schedule.offset) / .seconds(30)
            #expect(abs(periods - periods.rounded()) < 1e-9)
            at = next + .milliseconds(Int64.random(in: 0...20_000))
        }
    }

    /// Offsets are whole slots, so the lanes of a slot run together, and names spread over
    /// the slots of the interval.
    @Test func namesSpreadOverTheIntervalInWholeSlots() {
        let offsets = (0..<200).map { PollSchedule(name: "c\($0)", interval: .seconds(60), slot: .milliseconds(250)).offset }
        #expect(offsets.allSatisfy { $0 < .seconds(60) && $0.milliseconds % 250 == 0 })
        #expect(Set(offsets).count > 100)
    }

    /// A slot of one second up to 32 rounds a second, halved until a slot holds no more.
    @Test func theSlotHoldsAtMost32RoundsOfTheFleet() {
        func slot(_ lanes: Int, every interval: Duration) -> Duration {
            PollSchedule.slot(intervals: repeatElement(interval, count: lanes))
        }
        #expect(slot(0, every: .seconds(60)) == .seconds(1))
        #expect(slot(10, every: .seconds(1)) == .seconds(1))
        #expect(slot(32, every: .seconds(1)) == .seconds(1))
        #expect(slot(1_000, every: .seconds(15)) == .milliseconds(250))
        #expect(slot(10_000, every: .seconds(60)) == .milliseconds(125))
        #expect(slot(10_000, every: .seconds(15)) == .milliseconds(31.25))
        // Lanes of different intervals add up: 16 rounds a second and 20 make 36.
        #expect(PollSchedule.slot(intervals: Array(repeating: Duration.seconds(1), count: 16) + [.milliseconds(50)]) == .milliseconds(500))
    }
}

@Suite(.serialized)
struct SchedulerTests {
    /// Each slow round holds its slot for the whole round: with a bound of 2, never more than
    /// 2 clusters are asked at once (the simulator counts them as requests arrive), whatever
    /// the fleet; and every cluster has its turn.
    @Test func roundsInFlightNeverExceedTheBound() async throws {
        let gauge = InFlightGauge()
        let clusters = (0..<8).map { SimulatedCluster(name: "slow-\($0)", scenario: .slow, slowDelay: .milliseconds(150), inFlight: gauge) }
        try await ExporterHarness.with(clusters, pollInterval: "300ms", extraTopYAML: "max_concurrent_rounds: 2\n") { harness in
            try await harness.waitForRounds(2)
            // 16 rounds of at least 150 ms each, all due within 300 ms of each other: the
            // second slot is taken while the first is held, however slow the machine.
            #expect(gauge.peak == 2, "at most \(gauge.peak) clusters were asked at once")
        }
    }

    /// Between rounds a cluster is an entry in the queue, not a task: once the first round
    /// is done, nothing runs and every cluster's next round waits in the queue.
    @Test func betweenRoundsClustersWaitAsQueueEntries() async throws {
        let clusters = (0..<40).map { SimulatedCluster(name: "c\($0)", scenario: .healthy) }
        try await ExporterHarness.with(clusters, pollInterval: "60s") { harness in
            try await harness.waitForRounds(1)
            try await waitUntil("the first rounds to end") { harness.app.scheduler.roundsInFlight == 0 }
            #expect(harness.app.scheduler.queued == 40)
        }
    }

    /// The first max_idle_connections clusters keep their connection between polls; the others
    /// open one per round and close it after. A reload that moves a cluster to the kept ones
    /// keeps its data, and leaves the clusters it does not move alone.
    @Test func onlyTheFirstMaxIdleConnectionsClustersKeepTheirConnection() async throws {
        let clusters = (0..<3).map { SimulatedCluster(name: "k\($0)", scenario: .healthy) }
        // Rounds start at least 600 ms apart, well past the 250 ms a closing connection idles.
        try await ExporterHarness.with(clusters, pollInterval: "1200ms", extraTopYAML: "max_idle_connections: 1\n") { harness in
            try await harness.waitForRounds(3)
            #expect(clusters[0].connectionCount == 1)
            #expect(clusters[1].connectionCount >= 3)
            #expect(clusters[2].connectionCount >= 3)

            let config = try String(contentsOfFile: harness.configFile, encoding: .utf8)
            try config.replacingOccurrences(of: "max_idle_connections: 1", with: "max_idle_connections: 2")
                .write(toFile: harness.configFile, atomically: true, encoding: .utf8)
            let polled = try #require(harness.app.store.snapshot("k1")?.health("config")?.latency.count)
            let reload = try await harness.get("/-/reload", method: .POST)
            #expect(reload.status == 200, "\(String(buffer: reload.body))")
            let (moved, closing) = (clusters[1].connectionCount, clusters[2].connectionCount)
            try await harness.waitForRounds(3)
            #expect(try #require(harness.app.store.snapshot("k1")?.health("config")?.latency.count) >= polled + 3)
            // One new connection, on the kept-alive client, at most a second from a round in flight at the reload.
            #expect(clusters[1].connectionCount <= moved + 2)
            #expect(clusters[2].connectionCount >= closing + 3)
            #expect(clusters[0].connectionCount == 1)
        }
    }

    @Test func theTestCallRunsOnItsOwnIntervalInsideTheRound() async throws {
        let cluster = SimulatedCluster(name: "t", scenario: .healthy)
        let start = ContinuousClock.now
        try await ExporterHarness.with([cluster], pollInterval: "200ms", extraClusterYAML: ["t": "test_interval: 1s"]) { harness in
            // A round starts at least half an interval (100 ms) after the previous one ends, so
            // 12 rounds span at least 1.1 s: more than one test interval.
            try await harness.waitForRounds(12)
            let elapsed = ContinuousClock.now - start
            let snapshot = try #require(harness.app.store.snapshot("t"))
            let rounds = snapshot.health("config")?.latency.count ?? 0
            let tests = snapshot.health("test")?.latency.count ?? 0
            #expect(tests >= 2, "\(tests) test calls in \(rounds) rounds")
            // At most one per test interval: a loaded machine only lengthens `elapsed`.
            #expect(tests <= 1 + Int(elapsed / .seconds(1)), "\(tests) test calls in \(elapsed)")
        }
    }
}
