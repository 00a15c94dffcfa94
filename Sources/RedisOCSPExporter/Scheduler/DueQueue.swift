/// A priority queue of work by due time (a binary min-heap); equal times come out in the
/// order they went in.
struct DueQueue<Item> {
    private var heap: [(due: ContinuousClock.Instant, order: UInt64, item: Item)] = []
    private var inserted: UInt64 = 0

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// When the first item is due.
    var nextDue: ContinuousClock.Instant? { heap.first?.due }

    mutating func insert(_ item: Item, due: ContinuousClock.Instant) {
        inserted &+= 1
        heap.append((due, inserted, item))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the first item if it is due at `now`.
    mutating func popDue(at now: ContinuousClock.Instant) -> Item? {
        guard let first = heap.first, first.due <= now else { return nil }
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var first = parent
            if left < heap.count, precedes(left, first) { first = left }
            if right < heap.count, precedes(right, first) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return first.item
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        (heap[a].due, heap[a].order) < (heap[b].due, heap[b].order)
    }
}

extension DueQueue: Sendable where Item: Sendable {}
