/// A metric family derived from clusters. Its name is the public contract; each family is
/// declared beside the check that writes it.
struct ClusterFamily: Sendable, Hashable {
    let name: String
    let type: Exposition.MetricType
    let help: String

    init(_ name: String, _ type: Exposition.MetricType, _ help: String) {
        self.name = name
        self.type = type
        self.help = help
    }

    /// A family is known by its name: hashing the help text too made every sample cost more.
    static func == (a: Self, b: Self) -> Bool { a.name == b.name }
    func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// One cluster's samples by family, as the checks write them; the page puts them in order.
struct ClusterSamples {
    private(set) var families: [ClusterFamily: [UInt8]] = [:]
    /// The cluster's own labels, escaped once for all its samples.
    private let prefix: [UInt8]

    init(labels: [(String, String)]) {
        prefix = SampleWriter(baseLabels: labels).baseLabels
    }

    /// Replaces the family's samples with what `body` writes.
    mutating func write(_ family: ClusterFamily, _ body: (inout SampleWriter) -> Void) {
        var writer = SampleWriter(prefix: prefix)
        body(&writer)
        families[family] = writer.bytes
    }

    /// A family with one sample; none when the value is unknown.
    mutating func gauge(_ family: ClusterFamily, labels: [(String, String)] = [], _ value: Double?) {
        guard let value else { return }
        write(family) { $0.sample(family.name, labels, value) }
    }
}
