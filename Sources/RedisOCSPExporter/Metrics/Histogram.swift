/// A cumulative latency histogram with the Prometheus client libraries' default buckets.
struct Histogram: Sendable, Equatable {
    static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Each bound as its `le` label says it, formatted once.
    static let boundLabels = bounds.map(Exposition.formatValue)
    /// Observations per bucket, not cumulative; the last entry counts those above every bound.
    var counts = [UInt64](repeating: 0, count: bounds.count + 1)
    var sum = 0.0
    var count: UInt64 = 0

    init() {}

    mutating func observe(_ value: Double) {
        let index = Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count
        counts[index] += 1
        sum += value
        count += 1
    }
}
