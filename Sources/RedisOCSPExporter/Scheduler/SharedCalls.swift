import NIOConcurrencyHelpers

/// One call per key at a time: callers that arrive while it runs wait for it and share its
/// result. /probe polls a cluster for anyone who asks; concurrent probes of one target are
/// one round for the cluster, not one each.
final class SharedCalls<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let running = NIOLockedValueBox<[Key: Task<Value, Never>]>([:])

    func run(_ key: Key, _ body: @escaping @Sendable () async -> Value) async -> Value {
        let task = running.withLockedValue { tasks in
            if let task = tasks[key] { return task }
            let task = Task { await body() }
            tasks[key] = task
            return task
        }
        let value = await task.value
        running.withLockedValue { tasks in
            if tasks[key] == task { tasks[key] = nil }
        }
        return value
    }
}
