import NIOCore
import NIOPosix

/// The continuous clock, with sleeps that are event-loop timers. A `Task.sleep` timer stays
/// in dispatch's timer thread until it fires, even when the sleep was cancelled long before
/// (as nearly every request's deadline is), and each firing wakes two more threads; an event
/// loop's timer is removed when cancelled and fires on the loop the task runs on.
struct EventLoopClock: Clock {
    typealias Instant = ContinuousClock.Instant

    var now: Instant { .now }
    var minimumResolution: Duration { ContinuousClock().minimumResolution }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let timer = MultiThreadedEventLoopGroup.singleton.any()
            .scheduleTask(in: .nanoseconds((deadline - .now).nanoseconds)) {}
        try await withTaskCancellationHandler {
            // The timer fails only when cancelled.
            do { try await timer.futureResult.get() } catch { throw CancellationError() }
        } onCancel: {
            timer.cancel()
        }
    }
}
