/// A metric family derived from clusters. Its name is the public contract; each family is
/// declared beside the check that writes it.
struct ClusterFamily: Sendable, Hashable {
    let name: String
    let type: Exposition.MetricType
    let help: String
    /// The name's hash, taken once: rendering a cluster looks families up by the dozen.
    private let nameHash: Int

    init(_ name: String, _ type: Exposition.MetricType, _ help: String) {
        self.name = name
        self.type = type
        self.help = help
        nameHash = name.hashValue
    }

    /// A family is known by its name: hashing the help text too made every sample cost more.
    static func == (a: Self, b: Self) -> Bool { a.name == b.name }
    func hash(into hasher: inout Hasher) { hasher.combine(nameHash) }
}

/// One cluster's samples by family, as the checks write them; the page puts them in order.
struct ClusterSamples {
    /// The families' samples back to back, as written: one buffer for all of them.
    private var bytes: [UInt8] = []
    /// Where each written family's samples are in `bytes`.
    private var ranges: [ClusterFamily: Range<Int>] = [:]
    /// The cluster's own labels, escaped once for all its samples.
    private let prefix: [UInt8]

    init(labels: [(String, String)]) {
        prefix = SampleWriter(baseLabels: labels).baseLabels
        bytes.reserveCapacity(4096)
        ranges.reserveCapacity(ClusterFamily.allCases.count)
    }

    /// The family's samples; empty when it has none.
    subscript(family: ClusterFamily) -> ArraySlice<UInt8> {
        ranges[family].map { bytes[$0] } ?? []
    }

    /// The bytes of every family written, in all.
    var count: Int { ranges.values.reduce(0) { $0 + $1.count } }

    /// Replaces the family's samples with what `body` writes.
    mutating func write(_ family: ClusterFamily, _ body: (inout SampleWriter) -> Void) {
        // The writer appends to the shared buffer, lent to it for the call.
        var writer = SampleWriter(prefix: prefix)
        swap(&writer.bytes, &bytes)
        let start = writer.bytes.count
        body(&writer)
        swap(&writer.bytes, &bytes)
        ranges[family] = start..<bytes.count
    }

    /// A family with one sample; none when the value is unknown.
    mutating func gauge(_ family: ClusterFamily, labels: [(String, String)] = [], _ value: Double?) {
        guard let value else { return }
        write(family) { $0.sample(family.name, labels, value) }
    }
}
