@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct RequestLimiterTests {
    /// Many tasks through few slots, releasing and acquiring in every interleaving the
    /// scheduler makes: every task gets through, none sleeps while a slot is free, and all
    /// slots are back at the end.
    @Test func manyTasksThroughFewSlotsNeverStall() async throws {
        for round in 0..<200 {
            let limiter = RequestLimiter(limit: 2)
            let finished = try await withDeadline(.seconds(20)) {
                await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            (try? await limiter.withSlot(deadline: .now + .seconds(60)) {
                                await Task.yield()
                                return 1
                            }) ?? 0
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            #expect(finished == 50, "round \(round)")
            #expect(limiter.available == 2, "round \(round)")
        }
    }

    /// A wait ends at its deadline, while the holder keeps its slot, and the waiter that gave
    /// up takes no slot with it.
    @Test func aWaitEndsAtItsDeadline() async throws {
        let limiter = RequestLimiter(limit: 1)
        let release = Gate()
        let holder = Task { try await limiter.withSlot(deadline: .now + .seconds(60)) { await release.wait() } }
        try await waitUntil("the holder to take the slot") { limiter.available == 0 }
        let start = ContinuousClock.now
        // The holder never lets go before the deadline, so only the deadline can end this wait:
        // without it the wait would last until withDeadline's 60 s, a hang, not a slow machine.
        try await withDeadline(.seconds(60)) {
            await #expect(throws: DeadlineExceeded.self) {
                try await limiter.withSlot(deadline: .now + .milliseconds(100)) { Issue.record("ran without a slot") }
            }
        }
        #expect(ContinuousClock.now - start >= .milliseconds(100), "not before the deadline")
        #expect(limiter.waiting == 0)
        release.open()
        try await holder.value
        #expect(limiter.available == 1)
    }

    @Test func cancellingAWaiterFreesNothingAndLeaksNothing() async throws {
        let limiter = RequestLimiter(limit: 1)
        let release = Gate()
        let holder = Task { try await limiter.withSlot(deadline: .now + .seconds(60)) { await release.wait() } }
        try await waitUntil("the holder to take the slot") { limiter.available == 0 }
        let waiter = Task { try await limiter.withSlot(deadline: .now + .seconds(60)) { true } }
        try await waitUntil("the waiter to queue") { limiter.waiting == 1 }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(limiter.waiting == 0 && limiter.available == 0, "the holder still has the slot")
        release.open()
        try await holder.value
        #expect(limiter.available == 1)
    }

    /// Deadlines that expire and cancellations that land at random moments, mixed with
    /// grants: whatever the order, the tasks that were not refused all ran, and every slot
    /// comes back.
    @Test func deadlinesAndCancellationsInEveryOrderLoseNoSlot() async throws {
        for _ in 0..<50 {
            let limiter = RequestLimiter(limit: 3)
            let outcomes = try await withDeadline(.seconds(20)) {
                await withTaskGroup(of: String.self) { group in
                    for i in 0..<60 {
                        group.addTask {
                            let waiter = Task {
                                try await limiter.withSlot(deadline: .now + .microseconds(Int64.random(in: 0...3000))) {
                                    try? await Task.sleep(for: .microseconds(Int64.random(in: 0...500)))
                                }
                            }
                            if i % 3 == 0 {
                                try? await Task.sleep(for: .microseconds(Int64.random(in: 0...1000)))
                                waiter.cancel()
                            }
                            do {
                                try await waiter.value
                                return "ran"
                            } catch is DeadlineExceeded {
                                return "deadline"
                            } catch is CancellationError {
                                return "cancelled"
                            } catch {
                                return "\(error)"
                            }
                        }
                    }
                    return await group.reduce(into: [String]()) { $0.append($1) }
                }
            }
            #expect(outcomes.count == 60)
            #expect(Set(outcomes).isSubset(of: ["ran", "deadline", "cancelled"]), "\(Set(outcomes))")
            #expect(limiter.available == 3)
        }
    }
}
