import NIOConcurrencyHelpers
import Synchronization

/// A component that shows families of its own on /metrics (the notifier, the reloader, the
/// web configuration). The page renders them again only when `metricsVersion` moved, not on
/// every scrape.
protocol OwnMetricsSource: Sendable {
    /// Grows whenever what `renderMetrics()` shows may have changed; never goes back.
    var metricsVersion: UInt64 { get }
    func renderMetrics() -> String
}

/// A value behind a lock that counts its changes: every `mutate` moves `version`, after the
/// change, so whoever reads the version and then the value never pairs an old value with a
/// new version. `read` cannot change the value and leaves the version alone.
final class VersionedBox<Value: Sendable>: Sendable {
    private let box: NIOLockedValueBox<Value>
    private let changes = Atomic<UInt64>(0)

    init(_ value: Value) {
        box = NIOLockedValueBox(value)
    }

    var version: UInt64 { changes.load(ordering: .acquiring) }

    func read<T>(_ body: (Value) throws -> T) rethrows -> T {
        try box.withLockedValue { try body($0) }
    }

    func mutate<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        defer { changes.wrappingAdd(1, ordering: .releasing) }
        return try box.withLockedValue(body)
    }
}
