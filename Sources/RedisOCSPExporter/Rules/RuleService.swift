import ServiceLifecycle
import NIOConcurrencyHelpers

/// Evaluates the rules for a cluster and passes the outcome on: active alerts to the store
/// (for /metrics and the pages), alerts to send to the notifier.
public struct RuleEngine: Sendable {
    let evaluator: AlertEvaluator
    let store: SnapshotStore
    let notifier: AlertmanagerNotifier
    let now: @Sendable () -> Double

    public init(evaluator: AlertEvaluator, store: SnapshotStore, notifier: AlertmanagerNotifier, now: @escaping @Sendable () -> Double) {
        self.evaluator = evaluator
        self.store = store
        self.notifier = notifier
        self.now = now
    }

    public func evaluate(_ snapshot: ClusterSnapshot) {
        let outcome = evaluator.evaluate(snapshot, now: now())
        store.publish(alerts: outcome.active, cluster: snapshot.name)
        if !outcome.toSend.isEmpty { notifier.enqueue(outcome.toSend) }
    }
}

/// Re-evaluates every cluster on a timer, so `for` durations and time-based rules (a
/// next_update that passes) take effect without waiting for the next poll.
public final class RuleService: Service, Sendable {
    let engine: RuleEngine
    private let interval: NIOLockedValueBox<Duration>

    public init(engine: RuleEngine, interval: Duration) {
        self.engine = engine
        self.interval = NIOLockedValueBox(interval)
    }

    /// Takes a new evaluation_interval (on reload), from the next wait on.
    public func update(interval: Duration) {
        self.interval.withLockedValue { $0 = interval }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Ends when shutdown cancels the sleep.
            while (try? await Task.sleep(for: self.interval.withLockedValue { $0 })) != nil {
                for entry in self.engine.store.read().entries { self.engine.evaluate(entry.snapshot) }
            }
        }
    }
}
