@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct EventLoopClockTests {
    /// Only a lower bound: a loaded machine can only make the wake-up later.
    @Test func aSleepLastsAtLeastItsDuration() async throws {
        let clock = EventLoopClock()
        let start = clock.now
        try await clock.sleep(for: .milliseconds(50))
        #expect(clock.now - start >= .milliseconds(50))
    }

    @Test func cancellationEndsASleepWithCancellationError() async throws {
        let started = Gate()
        let task = Task {
            started.open()
            try await EventLoopClock().sleep(for: .seconds(3600))
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func aSleepInACancelledTaskEndsAtOnce() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await EventLoopClock().sleep(for: .seconds(3600))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
