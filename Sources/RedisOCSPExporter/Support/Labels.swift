/// Label pairs sorted by name: a cluster's static labels, a rule's extra labels, an alert's
/// labels, the notifier's external labels.
struct Labels: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    struct Label: Sendable, Equatable {
        var name: String
        var value: String
    }

    private let pairs: [Label]

    /// Sorted by name; where a name repeats, the later value wins.
    init(_ pairs: [(String, String)]) {
        var byName: [String: String] = [:]
        for (name, value) in pairs { byName[name] = value }
        self.pairs = byName.sorted { $0.key < $1.key }.map { Label(name: $0.key, value: $0.value) }
    }

    init(arrayLiteral elements: (String, String)...) { self.init(elements) }

    var startIndex: Int { pairs.startIndex }
    var endIndex: Int { pairs.endIndex }
    subscript(position: Int) -> Label { pairs[position] }

    var tuples: [(String, String)] { pairs.map { ($0.name, $0.value) } }

    subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }
}
