import NIOConcurrencyHelpers

/// Waits for a state the code under test brings about, looking at it every few milliseconds.
/// `timeout` is no ordering barrier: only a hang reaches it, so it is generous.
func waitUntil(_ what: @autoclosure () -> String, timeout: Duration = .seconds(60),
               _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw HarnessError("waited \(timeout) for \(what())") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A one-shot signal between a test and the code it drives: `wait()` returns once `open()`
/// has been called, before or after.
final class Gate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLockedValue { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLockedValue { s in
                if !s.open { s.waiters.append(continuation) }
                return s.open
            }
            if open { continuation.resume() }
        }
    }
}
