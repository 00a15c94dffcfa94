@testable import RedisOCSPExporter
import Testing

struct DeadlineTests {
    @Test func anOperationPastItsLimitEndsWithDeadlineExceeded() async throws {
        let start = ContinuousClock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(100)) { try await Task.sleep(for: .seconds(10)) }
        }
        // Far sooner than the operation's 10 s, also on a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(8))
    }

    @Test func anOperationWithinItsLimitReturnsItsValue() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
    }

    @Test func cancellationReachesTheOperation() async throws {
        let task = Task { try await withDeadline(.seconds(30)) { try await Task.sleep(for: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
