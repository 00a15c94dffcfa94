@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct DeadlineTests {
    /// On a clock the test drives: nothing ends before the limit, and the limit ends an
    /// operation that never would.
    @Test func anOperationPastItsLimitEndsWithDeadlineExceeded() async throws {
        let clock = ManualClock()
        // The operation sleeps on the manual clock too, far past the limit: only the deadline can end it.
        let task = Task { try await withDeadline(.seconds(5), clock: clock) { try await clock.sleep(for: .seconds(3600)) } }
        try await waitUntil("the deadline and the operation to sleep") { clock.sleeping == 2 }
        clock.advance(by: .milliseconds(4999))
        #expect(clock.sleeping == 2, "the deadline has not come yet")
        clock.advance(by: .milliseconds(1))
        await #expect(throws: DeadlineExceeded.self) { try await task.value }
        #expect(clock.sleeping == 0, "the operation was cancelled")
    }

    /// The same on the default clock, the event loops': the deadline fires while the operation sleeps an hour. Only
    /// a lower bound is asserted; a loaded machine can only make it later.
    @Test func theDeadlineFiresOnTheDefaultClock() async throws {
        let start = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100)) { try await Task.sleep(for: .seconds(3600)) }
        }
        #expect(ContinuousClock.now - start >= .milliseconds(100))
    }

    @Test func anOperationWithinItsLimitReturnsItsValue() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
    }

    @Test func cancellationReachesTheOperation() async throws {
        let started = Gate()
        let task = Task {
            try await withDeadline(.seconds(3600)) {
                started.open()
                try await Task.sleep(for: .seconds(3600))
            }
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
