import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

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

struct PollScheduleTests {
    @Test func roundsStayOnTheClustersGridAndAtLeastHalfAnIntervalApart() {
        let origin = ContinuousClock.now
        let schedule = PollSchedule(name: "cluster-a", interval: .seconds(30), origin: origin)
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

    @Test func namesSpreadOverTheInterval() {
        let offsets = Set((0..<200).map { PollSchedule(name: "c\($0)", interval: .seconds(60)).offset.components.seconds })
        #expect(offsets.count > 40)
    }
}

@Suite(.serialized)
struct SchedulerTests {
    /// Each slow round holds its slot for the whole round: with a bound of 2, never more than
    /// 2 rounds run, whatever the fleet; and no cluster waits in a task of its own.
    @Test func roundsInFlightNeverExceedTheBound() async throws {
        let clusters = (0..<8).map { SimulatedCluster(name: "slow-\($0)", scenario: .slow, slowDelay: .milliseconds(150)) }
        try await ExporterHarness.with(clusters, pollInterval: "300ms", extraTopYAML: "max_concurrent_requests: 2\n") { harness in
            var peak = 0
            let deadline = ContinuousClock.now + .seconds(4)
            while ContinuousClock.now < deadline {
                peak = max(peak, harness.app.scheduler.roundsInFlight)
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(peak == 2, "peak of \(peak) rounds in flight")
            // Every cluster had its turn: the bound queues rounds, it does not starve clusters.
            try await harness.waitForRounds(1, timeout: .seconds(10))
        }
    }

    /// Between rounds a cluster is an entry in the queue, not a task: once the first round
    /// is done, nothing runs and every cluster's next round waits in the queue.
    @Test func betweenRoundsClustersWaitAsQueueEntries() async throws {
        let clusters = (0..<40).map { SimulatedCluster(name: "c\($0)", scenario: .healthy) }
        try await ExporterHarness.with(clusters, pollInterval: "60s") { harness in
            try await harness.waitForRounds(1)
            let deadline = ContinuousClock.now + .seconds(10)
            while harness.app.scheduler.roundsInFlight > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(harness.app.scheduler.roundsInFlight == 0)
            #expect(harness.app.scheduler.queued == 40)
        }
    }

    @Test func theTestCallRunsOnItsOwnIntervalInsideTheRound() async throws {
        let cluster = SimulatedCluster(name: "t", scenario: .healthy)
        try await ExporterHarness.with([cluster], pollInterval: "200ms", extraClusterYAML: ["t": "test_interval: 1s"]) { harness in
            try await Task.sleep(for: .milliseconds(2600))
            let snapshot = try #require(harness.app.store.snapshot("t"))
            let rounds = snapshot.health("config")?.latency.count ?? 0
            let tests = snapshot.health("test")?.latency.count ?? 0
            #expect(rounds >= 8, "\(rounds) rounds")
            #expect((2...3).contains(tests), "\(tests) test calls in 2.6 s with test_interval 1s")
        }
    }
}
