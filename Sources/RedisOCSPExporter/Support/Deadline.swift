/// The request's whole time limit was reached.
struct DeadlineExceeded: Error {}

/// Runs `operation` with a time limit on all of it. AsyncHTTPClient's own deadline ends when
/// the response head arrives; a server that then stalls mid-body would hold the caller forever.
func withDeadline<T: Sendable, C: Clock>(
    _ limit: C.Duration, clock: C = EventLoopClock(), _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await clock.sleep(for: limit)
            throw DeadlineExceeded()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
