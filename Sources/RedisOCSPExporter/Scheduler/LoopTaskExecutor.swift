import NIOCore
import NIOPosix

/// Runs a task on one event loop of the shared group. Each cluster gets the next loop in turn,
/// so rounds spread over all loops (and cores); without a preference a task created on a loop
/// stays on it, and the whole fleet would poll on the scheduler's one loop. The REST client
/// opens a connection on the loop it is called from, so with every round of a cluster on one
/// loop, its kept-alive connection's answers arrive where the round runs.
final class LoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop & SerialExecutor

    init(_ loop: any EventLoop & SerialExecutor) { self.loop = loop }

    /// The shared group's next loop.
    static func next() -> LoopTaskExecutor {
        LoopTaskExecutor(MultiThreadedEventLoopGroup.singleton.next() as! any EventLoop & SerialExecutor)
    }

    /// Runs the job as this task executor's, not as the loop's serial executor (what the loop's
    /// own `enqueue` does): the task's nonisolated code then finds itself on its preferred
    /// executor and goes on in place, where each call into it used to hop back through the
    /// loop's queue (about 100 hops a round, 6% of its instructions in the switches alone).
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
