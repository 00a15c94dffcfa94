import FoundationEssentials

/// RFC 3339 timestamps in UTC with milliseconds, as Alertmanager, Prometheus's API and log
/// readers expect them.
enum RFC3339 {
    static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func format(unixTime: Double) -> String { format(Date(timeIntervalSince1970: unixTime)) }
}
