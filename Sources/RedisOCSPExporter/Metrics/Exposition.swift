/// The Prometheus text exposition format (version 0.0.4): escaping and number formatting.
enum Exposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    enum MetricType: String, Sendable { case gauge, counter, histogram }

    /// Label values escape backslash, double quote and line feed.
    static func escapeLabelValue(_ value: String, into out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, 0x6E])
            default: out.append(byte)
            }
        }
    }

    /// HELP text escapes backslash and line feed only.
    static func escapeHelp(_ text: String) -> String {
        // Byte by byte and only when needed: Foundation's replacingOccurrences costs more than
        // serving a whole scrape.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case UInt8(ascii: "\n"): out.append(contentsOf: [0x5C, 0x6E])
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Numbers as Go's client does: integers without a fraction, NaN and ±Inf spelled out,
    /// everything else in the shortest form that reads back to the same Double.
    static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 {
            return value == 0 ? "0" : String(Int64(value))
        }
        return value.description
    }

    static func header(name: String, help: String, type: MetricType) -> String {
        "# HELP \(name) \(escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }
}

/// Appends samples to a byte buffer; `baseLabels` (already escaped, without braces) are put
/// before each sample's own labels.
struct SampleWriter {
    var bytes: [UInt8] = []
    let baseLabels: [UInt8]

    init(baseLabels: [(String, String)]) {
        var prefix: [UInt8] = []
        for (i, (name, value)) in baseLabels.enumerated() {
            if i > 0 { prefix.append(UInt8(ascii: ",")) }
            prefix.append(contentsOf: name.utf8)
            prefix.append(contentsOf: "=\"".utf8)
            Exposition.escapeLabelValue(value, into: &prefix)
            prefix.append(UInt8(ascii: "\""))
        }
        self.baseLabels = prefix
    }

    /// Labels escaped before, by another writer.
    init(prefix: [UInt8]) {
        baseLabels = prefix
    }

    /// A sample; `le`, a histogram bucket's bound, is the last label.
    mutating func sample(_ name: String, _ labels: [(String, String)], _ value: Double, le: String? = nil) {
        bytes.append(contentsOf: name.utf8)
        if !baseLabels.isEmpty || !labels.isEmpty || le != nil {
            bytes.append(UInt8(ascii: "{"))
            bytes.append(contentsOf: baseLabels)
            var first = baseLabels.isEmpty
            func label(_ labelName: String, _ labelValue: String) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                bytes.append(contentsOf: labelName.utf8)
                bytes.append(contentsOf: "=\"".utf8)
                Exposition.escapeLabelValue(labelValue, into: &bytes)
                bytes.append(UInt8(ascii: "\""))
            }
            for (labelName, labelValue) in labels { label(labelName, labelValue) }
            if let le { label("le", le) }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: Exposition.formatValue(value).utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// A histogram's buckets, sum and count, as one family's samples.
    mutating func histogram(_ name: String, _ labels: [(String, String)], _ h: Histogram) {
        let bucket = name + "_bucket"
        var cumulative: UInt64 = 0
        for (i, bound) in Histogram.boundLabels.enumerated() {
            cumulative += h.counts[i]
            sample(bucket, labels, Double(cumulative), le: bound)
        }
        sample(bucket, labels, Double(h.count), le: "+Inf")
        sample(name + "_sum", labels, h.sum)
        sample(name + "_count", labels, Double(h.count))
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
        for (labels, value) in samples { writer.sample(name, labels, value) }
        text += Exposition.header(name: name, help: help, type: type)
        text += String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A family of one unlabelled sample; nothing when the value is unknown.
    mutating func family(_ name: String, _ type: Exposition.MetricType, _ help: String, _ value: Double?) {
        guard let value else { return }
        family(name, type, help, [([], value)])
    }
}
