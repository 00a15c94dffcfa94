import DequeModule
import NIOConcurrencyHelpers

/// A counting semaphore for async code: bounds the check rounds in flight across all
/// clusters (one slot per round), so a large fleet cannot open thousands of connections at once. Waiters are
/// served first come, first served; a wait ends at its deadline or on cancellation.
///
/// Every decision (take a slot, queue, hand a released slot over, give up) is made under the
/// one lock, so a slot released while a waiter is on its way into the queue is handed to it,
/// never left free while it sleeps.
final class RequestLimiter: Sendable {
    private enum Waiter {
        /// Queued; its continuation is not installed yet.
        case registered
        case waiting(CheckedContinuation<Void, any Error>)
        /// A released slot was handed over before the continuation was installed.
        case granted
        case failed(any Error)
    }

    private struct State {
        var available: Int
        var waiters: [UInt64: Waiter] = [:]
        /// Arrival order; ids whose waiter gave up are skipped when met.
        var queue: Deque<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>

    init(limit: Int) {
        state = NIOLockedValueBox(State(available: limit))
    }

    /// Runs `body` once a slot is free. Waiting past `deadline` throws DeadlineExceeded;
    /// cancellation while waiting throws CancellationError.
    func withSlot<T: Sendable>(deadline: ContinuousClock.Instant, _ body: () async throws -> T) async throws -> T {
        try await acquire(deadline: deadline)
        defer { release() }
        return try await body()
    }

    /// Slots free now.
    var available: Int { state.withLockedValue { $0.available } }

    /// Callers queued for a slot now (a waiter that gave up or was granted one is not).
    var waiting: Int {
        state.withLockedValue { s in
            s.waiters.values.count { if case .registered = $0 { true } else if case .waiting = $0 { true } else { false } }
        }
    }

    func acquire(deadline: ContinuousClock.Instant) async throws {
        let id: UInt64? = state.withLockedValue { s in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            s.waiters[s.nextID] = .registered
            s.queue.append(s.nextID)
            return s.nextID
        }
        guard let id else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends the wait at the deadline; a no-op if the slot came first.
                guard (try? await EventLoopClock().sleep(until: deadline)) != nil else { return }
                self.fail(id, DeadlineExceeded())
            }
            defer { group.cancelAll() }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let settled: Result<Void, any Error>? = state.withLockedValue { s in
                        switch s.waiters[id] {
                        case .registered?:
                            s.waiters[id] = .waiting(continuation)
                            return nil
                        case .granted?:
                            s.waiters[id] = nil
                            return .success(())
                        case .failed(let error)?:
                            s.waiters[id] = nil
                            return .failure(error)
                        case .waiting?, nil:
                            preconditionFailure("limiter waiter \(id) installed twice")
                        }
                    }
                    if let settled { continuation.resume(with: settled) }
                }
            } onCancel: {
                fail(id, CancellationError())
            }
        }
    }

    /// Ends a waiter's wait with `error`, unless it already has its slot.
    private func fail(_ id: UInt64, _ error: any Error) {
        let continuation = state.withLockedValue { s -> CheckedContinuation<Void, any Error>? in
            switch s.waiters[id] {
            case .registered?:
                s.waiters[id] = .failed(error)
            case .waiting(let continuation)?:
                s.waiters[id] = nil
                return continuation
            case .granted?, .failed?, nil:
                break
            }
            return nil
        }
        continuation?.resume(throwing: error)
    }

    func release() {
        let next = state.withLockedValue { s -> CheckedContinuation<Void, any Error>? in
            while let id = s.queue.popFirst() {
                switch s.waiters[id] {
                case .registered?:
                    s.waiters[id] = .granted
                    return nil
                case .waiting(let continuation)?:
                    s.waiters[id] = nil
                    return continuation
                case .granted?, .failed?, nil:
                    continue  // gave up (or is about to learn it did); not a taker
                }
            }
            s.available += 1
            return nil
        }
        next?.resume()
    }
}
