import FoundationEssentials

/// Times as people read them in a report: "in 1h 41m", "31m ago", and the date beside.
enum RelativeTime {
    /// A span in its two largest units: "2d 3h", "1h 59m", "31m", "45s".
    static func span(_ seconds: Double) -> String {
        let s = Int(abs(seconds).rounded(.down))
        let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60)
        if d > 0 { return h > 0 ? "\(d)d \(h)h" : "\(d)d" }
        if h > 0 { return m > 0 ? "\(h)h \(m)m" : "\(h)h" }
        return m > 0 ? "\(m)m" : "\(s)s"
    }

    /// "in 1h 41m" for a time ahead of `now`, "31m ago" for one behind.
    static func relative(_ time: Int64, now: Double) -> String {
        let delta = Double(time) - now
        return delta >= 0 ? "in \(span(delta))" : "\(span(delta)) ago"
    }

    /// "2026-12-01 14:00:00 UTC".
    static func date(_ time: Int64) -> String {
        let iso = Date(timeIntervalSince1970: Double(time)).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
        return iso.replacing("T", with: " ").replacing("Z", with: "") + " UTC"
    }
}
