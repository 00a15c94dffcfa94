import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A sleep that can be cut short: the scheduler's one loop waits here for the next due time,
/// and new work (a reload, a finished round) rings it. The timer is an event loop's, so a
/// wait holds no task and no thread.
final class Alarm: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Void, Never>?
        var timer: Scheduled<Void>?
        /// Rung while nobody waited: the next wait returns at once.
        var rung = false
    }

    private let state = NIOLockedValueBox(State())
    private let loop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()

    /// Returns at `deadline`, when rung, or when the task is cancelled.
    func wait(until deadline: ContinuousClock.Instant) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { s -> Bool in
                    if s.rung || Task.isCancelled {
                        s.rung = false
                        return true
                    }
                    s.waiter = continuation
                    let left = deadline - .now
                    let nanoseconds = max(0, left.nanoseconds)
                    s.timer = loop.scheduleTask(in: .nanoseconds(nanoseconds)) { self.ring() }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            ring()
        }
    }

    func ring() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else {
                s.rung = true
                return nil
            }
            s.waiter = nil
            s.timer?.cancel()
            s.timer = nil
            return waiter
        }
        waiter?.resume()
    }
}
