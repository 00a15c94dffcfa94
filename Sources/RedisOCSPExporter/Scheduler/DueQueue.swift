/// A priority queue of work by due time (a binary min-heap); equal times come out in the
/// order they went in.
struct DueQueue<Item> {
    /// The heap's order, compared without touching the items: reading an item whole for a
    /// comparison would retain and release its strings.
    private var keys: [(due: ContinuousClock.Instant, order: UInt64)] = []
    /// The items, moved in step with their keys.
    private var items: [Item] = []
    private var inserted: UInt64 = 0

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }
    /// When the first item is due.
    var nextDue: ContinuousClock.Instant? { keys.first?.due }

    mutating func insert(_ item: Item, due: ContinuousClock.Instant) {
        inserted &+= 1
        keys.append((due, inserted))
        items.append(item)
        var child = keys.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            swap(child, parent)
            child = parent
        }
    }

    /// Removes and returns the first item if it is due at `now`.
    mutating func popDue(at now: ContinuousClock.Instant) -> Item? {
        guard let first = keys.first, first.due <= now else { return nil }
        swap(0, keys.count - 1)
        keys.removeLast()
        let item = items.removeLast()
        var parent = 0
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var first = parent
            if left < keys.count, precedes(left, first) { first = left }
            if right < keys.count, precedes(right, first) { first = right }
            guard first != parent else { break }
            swap(parent, first)
            parent = first
        }
        return item
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        (keys[a].due, keys[a].order) < (keys[b].due, keys[b].order)
    }

    private mutating func swap(_ a: Int, _ b: Int) {
        keys.swapAt(a, b)
        items.swapAt(a, b)
    }
}

extension DueQueue: Sendable where Item: Sendable {}
