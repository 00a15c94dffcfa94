/// Prometheus-style durations: "500ms", "30s", "1m30s", "2h", "1d", "1w".
enum DurationParser {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000),
        ("h", 3_600_000), ("m", 60_000), ("s", 1000),
    ]
    /// The order units must appear in, largest first, as Prometheus requires.
    private static let order = ["y", "w", "d", "h", "m", "s", "ms"]

    static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return .zero }
        var total: Int64 = 0
        var lastRank = -1
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, digits.count <= 12, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            // "ms" must be tried before "m".
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }),
                  let rank = order.firstIndex(of: unit.suffix), rank > lastRank
            else { return nil }
            lastRank = rank
            rest = rest.dropFirst(unit.suffix.count)
            let (product, overflow1) = value.multipliedReportingOverflow(by: unit.milliseconds)
            let (sum, overflow2) = total.addingReportingOverflow(product)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
        }
        return .milliseconds(total)
    }

    /// The shortest Prometheus-style text for a duration, for messages and the landing page.
    static func format(_ duration: Duration) -> String {
        var ms = duration.milliseconds
        if ms == 0 { return "0s" }
        var out = ""
        for unit in units.sorted(by: { $0.milliseconds > $1.milliseconds }) where ms >= unit.milliseconds {
            out += "\(ms / unit.milliseconds)\(unit.suffix)"
            ms %= unit.milliseconds
        }
        return out
    }
}
