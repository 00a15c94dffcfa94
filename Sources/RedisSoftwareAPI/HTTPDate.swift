/// Parser and formatter for HTTP dates (RFC 9110 section 5.6.7), the format of every date the OCSP API returns.
///
/// A fixed-format parser on purpose: it does not depend on the process locale or time zone,
/// it never allocates a formatter, and it rejects anything out of range instead of rolling
/// it over (a `DateFormatter` in lenient mode would turn "31 Feb" into 3 March).
/// Accepts the preferred IMF-fixdate and, as the RFC asks of recipients, the obsolete
/// RFC 850 and asctime forms.
public enum HTTPDate {
    /// Unix time in seconds, or nil when `text` is not an HTTP date.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var scanner = Scanner(Array(text.utf8))
        scanner.skipSpaces()
        return imfFixdate(scanner) ?? rfc850(scanner) ?? asctime(scanner)
    }

    /// Formats Unix time as IMF-fixdate, e.g. "Wed, 22 Dec 2021 12:50:11 GMT".
    public static func format(_ unixTime: Int64) -> String {
        let days = floorDiv(unixTime, 86_400)
        let secs = unixTime - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(weekdays[weekday]), \(two(Int64(d))) \(months[m - 1]) \(y) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) GMT"
    }

    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longWeekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    /// The names as the parser compares them.
    private static let weekdayBytes = weekdays.map { Array($0.utf8) }
    private static let longWeekdayBytes = longWeekdays.map { Array($0.utf8) }
    private static let monthBytes = months.map { Array($0.utf8) }

    // "Sun, 06 Nov 1994 08:49:37 GMT"
    private static func imfFixdate(_ s: Scanner) -> Int64? {
        var s = s
        guard let wd = s.word(in: weekdayBytes), s.literal(","), s.literal(" "),
              let day = s.digits(2), s.literal(" "),
              let month = s.word(in: monthBytes), s.literal(" "),
              let year = s.digits(4), s.literal(" "),
              let time = s.time(), s.literal(" "), s.literal("GMT"), s.atEndIgnoringSpaces()
        else { return nil }
        return assemble(year: year, month: month + 1, day: day, time: time, weekday: wd)
    }

    // "Sunday, 06-Nov-94 08:49:37 GMT": two-digit years are read as within 50 years of 2000, a
    // fixed pivot so the answer does not depend on today's date.
    private static func rfc850(_ s: Scanner) -> Int64? {
        var s = s
        guard let wd = s.word(in: longWeekdayBytes), s.literal(","), s.literal(" "),
              let day = s.digits(2), s.literal("-"),
              let month = s.word(in: monthBytes), s.literal("-"),
              let yy = s.digits(2), s.literal(" "),
              let time = s.time(), s.literal(" "), s.literal("GMT"), s.atEndIgnoringSpaces()
        else { return nil }
        let year = yy < 50 ? 2000 + yy : 1900 + yy
        return assemble(year: year, month: month + 1, day: day, time: time, weekday: wd)
    }

    // "Sun Nov  6 08:49:37 1994"
    private static func asctime(_ s: Scanner) -> Int64? {
        var s = s
        guard let wd = s.word(in: weekdayBytes), s.literal(" "),
              let month = s.word(in: monthBytes), s.literal(" ")
        else { return nil }
        let day: Int
        if s.literal(" ") {
            guard let d = s.digits(1) else { return nil }
            day = d
        } else {
            guard let d = s.digits(2) else { return nil }
            day = d
        }
        guard s.literal(" "), let time = s.time(), s.literal(" "), let year = s.digits(4), s.atEndIgnoringSpaces()
        else { return nil }
        return assemble(year: year, month: month + 1, day: day, time: time, weekday: wd)
    }

    private static func assemble(year: Int, month: Int, day: Int, time: (Int, Int, Int), weekday: Int) -> Int64? {
        let (hour, minute, second) = time
        // Second 60 is a leap second (allowed by the grammar); Unix time has none, so it is
        // folded into the next second as POSIX does.
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let days = daysFromCivil(year: Int64(year), month: month, day: day)
        // A weekday that contradicts the date means the sender computed the string wrongly;
        // trusting either half would be a guess.
        guard Int(((days % 7) + 11) % 7) == weekday else { return nil }
        return days * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int, Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }

        mutating func atEndIgnoringSpaces() -> Bool {
            skipSpaces()
            return index == bytes.count
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for at in 0..<count where bytes[index + at] != text.utf8Start[at] { return false }
            index += count
            return true
        }

        /// Index of the word of `words` at the cursor; names are case-sensitive, as the grammar says.
        mutating func word(in words: [[UInt8]]) -> Int? {
            for (i, w) in words.enumerated() {
                let end = index + w.count
                guard end <= bytes.count else { continue }
                // Byte by byte, most names ending at the first: a generic comparison of each
                // name with a slice cost more than the rest of the date.
                var at = 0
                while at < w.count, bytes[index + at] == w[at] { at += 1 }
                guard at == w.count else { continue }
                // "Sun" must not match the start of "Sunday" in the RFC 850 form.
                if end < bytes.count, (0x61...0x7A).contains(bytes[end]) { continue }
                index = end
                return i
            }
            return nil
        }

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for i in 0..<count {
                let b = bytes[index + i]
                guard b >= 0x30, b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            index += count
            return value
        }

        mutating func time() -> (Int, Int, Int)? {
            guard let h = digits(2), literal(":"), let m = digits(2), literal(":"), let s = digits(2) else { return nil }
            return (h, m, s)
        }
    }
}
