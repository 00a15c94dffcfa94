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

    /// Every family in page order: each check's, the REST round's, then the rule engine's alerts.
    static let allCases: [ClusterFamily] = Checks.all.flatMap(\.families) + RESTRound.families + [.alerts]

    /// Position of each family in `allCases`, by name.
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1.name, $0) })

    var position: Int { Self.index[name]! }
}

/// One cluster's samples by family, as the checks write them.
struct ClusterSamples {
    private(set) var families: [[UInt8]]
    /// The cluster's own labels, escaped once for all its samples.
    private let prefix: [UInt8]

    init(labels: [(String, String)]) {
        families = [[UInt8]](repeating: [], count: ClusterFamily.allCases.count)
        prefix = SampleWriter(baseLabels: labels).baseLabels
    }

    /// Replaces the family's samples with what `body` writes.
    mutating func write(_ family: ClusterFamily, _ body: (inout SampleWriter) -> Void) {
        var writer = SampleWriter(prefix: prefix)
        body(&writer)
        families[family.position] = writer.bytes
    }

    /// A family with one unlabelled sample; none when the value is unknown.
    mutating func gauge(_ family: ClusterFamily, _ value: Double?) {
        guard let value else { return }
        write(family) { $0.sample(family.name, [], value) }
    }
}
