/// The Prometheus text exposition format (version 0.0.4): escaping and number formatting.
enum Exposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    enum MetricType: String, Sendable { case gauge, counter, histogram }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String, into out: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            // Most values need nothing escaped: copied at once.
            guard utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return out.append(contentsOf: utf8) }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, 0x6E])
                default: out.append(byte)
                }
            }
        }
    }

    /// HELP text escapes backslash and line feed only.
    static func escapeHelp(_ text: String) -> String {
        var out: [UInt8] = []
        writeHelp(text, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// HELP text, escaped: copied whole when nothing needs escaping, else byte by byte
    /// (Foundation's replacingOccurrences costs more than serving a whole scrape).
    private static func writeHelp(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else {
                out.append(contentsOf: bytes)
                return
            }
            out.reserveCapacity(out.count + bytes.count + 8)
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, 0x6E])
                default: out.append(byte)
                }
            }
        }
    }

    /// Numbers as Go's client does: integers without a fraction, NaN and ±Inf spelled out,
    /// everything else in the shortest form that reads back to the same Double.
    static func formatValue(_ value: Double) -> String {
        var out: [UInt8] = []
        writeValue(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `formatValue` appended in place: integers digit by digit, with no String made for them
    /// (most samples are 0, 1, counts and timestamps, rendered for every cluster each round).
    static func writeValue(_ value: Double, into out: inout [UInt8]) {
        if value == value.rounded(), abs(value) < 1e15 {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            var magnitude = UInt64(abs(value))
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var start = digits.count
                repeat {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
            }
        } else if value.isNaN {
            out.append(contentsOf: "NaN".utf8)
        } else if value.isInfinite {
            out.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8)
        } else {
            append(value.description, to: &out)
        }
    }

    /// A string's bytes, copied at once where it is stored as UTF-8 (as our strings are).
    static func append(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    static func header(name: String, help: String, type: MetricType) -> String {
        var out: [UInt8] = []
        writeHeader(name: name, help: help, type: type, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The HELP and TYPE lines, appended as bytes: the exporter's own families write them on
    /// every scrape, and built by string interpolation they cost more than the rest of a family.
    static func writeHeader(name: String, help: String, type: MetricType, into out: inout [UInt8]) {
        append("# HELP ", to: &out)
        append(name, to: &out)
        out.append(UInt8(ascii: " "))
        writeHelp(help, into: &out)
        append("\n# TYPE ", to: &out)
        append(name, to: &out)
        out.append(UInt8(ascii: " "))
        append(type.rawValue, to: &out)
        out.append(UInt8(ascii: "\n"))
    }
}

/// Appends samples to a byte buffer; `baseLabels` (already escaped, without braces) are put
/// before each sample's own labels.
struct SampleWriter {
    var bytes: [UInt8] = []
    let baseLabels: [UInt8]

    init(baseLabels: [(String, String)]) {
        var writer = SampleWriter(prefix: [])
        writer.labels(baseLabels)
        self.baseLabels = writer.bytes
    }

    /// Labels escaped before, by another writer.
    init(prefix: [UInt8]) {
        baseLabels = prefix
    }

    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Exposition.append(name, to: &bytes)
        if !baseLabels.isEmpty || !labels.isEmpty {
            bytes.append(UInt8(ascii: "{"))
            bytes.append(contentsOf: baseLabels)
            self.labels(labels, after: !baseLabels.isEmpty)
            bytes.append(UInt8(ascii: "}"))
        }
        end(value)
    }

    /// A histogram's buckets, sum and count, as one family's samples.
    mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: Histogram) {
        // Every bucket's series up to its bound, escaped once: `name_bucket{labels,le="`.
        var head = SampleWriter(prefix: [])
        Exposition.append(name, to: &head.bytes)
        Exposition.append("_bucket{", to: &head.bytes)
        head.bytes.append(contentsOf: baseLabels)
        head.labels(labels, after: !baseLabels.isEmpty)
        if !baseLabels.isEmpty || !labels.isEmpty { head.bytes.append(UInt8(ascii: ",")) }
        Exposition.append("le=\"", to: &head.bytes)
        var cumulative: UInt64 = 0
        for (i, bound) in Histogram.boundLabels.enumerated() {
            cumulative += h.counts[i]
            bucket(head.bytes, bound, cumulative)
        }
        bucket(head.bytes, "+Inf", h.count)
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
    }

    private mutating func bucket(_ head: [UInt8], _ bound: String, _ count: UInt64) {
        bytes.append(contentsOf: head)
        Exposition.append(bound, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: "}"))
        end(Double(count))
    }

    /// `name="value"` pairs, comma-separated, with a comma first when they follow others.
    private mutating func labels(_ labels: [(String, String)], after others: Bool = false) {
        for (i, (name, value)) in labels.enumerated() {
            if others || i > 0 { bytes.append(UInt8(ascii: ",")) }
            Exposition.append(name, to: &bytes)
            bytes.append(UInt8(ascii: "="))
            bytes.append(UInt8(ascii: "\""))
            Exposition.escapeLabelValue(value, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private mutating func end(_ value: Double) {
        bytes.append(UInt8(ascii: " "))
        Exposition.writeValue(value, into: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }
}

/// Writes whole families, HELP and TYPE included: every source of the exporter's own metrics
/// (notifier, reloader, web configuration, process, page) writes through it.
struct FamilyWriter {
    private(set) var text = ""

    /// A family with these samples; nothing at all when there are none.
    mutating func family(_ name: String, _ type: Exposition.MetricType, _ help: String, _ samples: [([(String, String)], Double)]) {
        guard !samples.isEmpty else { return }
        var writer = SampleWriter(baseLabels: [])
        Exposition.writeHeader(name: name, help: help, type: type, into: &writer.bytes)
        for (labels, value) in samples { writer.sample(name, labels, value) }
        text += String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A family of one unlabelled sample; nothing when the value is unknown.
    mutating func family(_ name: String, _ type: Exposition.MetricType, _ help: String, _ value: Double?) {
        guard let value else { return }
        family(name, type, help, [([], value)])
    }
}
