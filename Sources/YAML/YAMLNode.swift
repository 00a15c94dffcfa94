import CLibYAML

/// A composed YAML document, as the configuration reader needs it: scalars keep their text,
/// style and position; mapping keys are scalars and unique. Built on libyaml's event parser
/// so that what could cost unbounded work (alias or collection keys, deep nesting) is refused
/// as it is read, before anything is composed.
public indirect enum YAMLNode: Sendable {
    case scalar(Scalar)
    case mapping([(key: Scalar, value: YAMLNode)], YAMLMark?)
    case sequence([YAMLNode], YAMLMark?)

    public struct Scalar: Sendable {
        public var string: String
        /// Written without quotes or block style: only such a scalar (or one tagged `!!bool`)
        /// can be a boolean, as in YAML 1.1.
        public var isPlain: Bool
        public var tag: String?
        public var mark: YAMLMark?

        public init(_ string: String, isPlain: Bool = false, tag: String? = nil, mark: YAMLMark? = nil) {
            self.string = string
            self.isPlain = isPlain
            self.tag = tag
            self.mark = mark
        }

        /// YAML 1.1 booleans (true/yes/on, false/no/off in any case).
        public var bool: Bool? {
            guard tag == "tag:yaml.org,2002:bool" || (tag == nil && isPlain) else { return nil }
            switch string.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        }
    }

    public var mark: YAMLMark? {
        switch self {
        case .scalar(let s): s.mark
        case .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }

    public var scalar: Scalar? {
        if case .scalar(let s) = self { return s }
        return nil
    }
}

/// A position in the text, both counted from 1.
public struct YAMLMark: Sendable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

/// Why a text is not a document the reader accepts: where and what, never the text itself
/// (a line may hold a password).
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public var mark: YAMLMark?
    public var problem: String

    public var description: String {
        guard let mark else { return problem }
        return "line \(mark.line), column \(mark.column): \(problem)"
    }
}

extension YAMLNode {
    /// Collections nested deeper than this are refused; configuration needs a handful.
    public static let maxDepth = 64

    /// The single document in `text`, or nil when there is none.
    public static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        let composer = Composer(text)
        defer { composer.close() }
        return try composer.document()
    }
}

private final class Composer {
    private let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
    private let input: UnsafeMutableBufferPointer<UInt8>
    private var anchors: [String: YAMLNode] = [:]

    init(_ text: String) {
        input = .allocate(capacity: max(text.utf8.count, 1))
        _ = input.initialize(from: text.utf8)
        yaml_parser_initialize(parser)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, input.baseAddress, text.utf8.count)
    }

    func close() {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    enum Event {
        case streamStart, streamEnd, documentStart, documentEnd, sequenceEnd, mappingEnd
        case alias(String, YAMLMark)
        case scalar(YAMLNode.Scalar, anchor: String?)
        case sequenceStart(anchor: String?, YAMLMark)
        case mappingStart(anchor: String?, YAMLMark)

        var mark: YAMLMark? {
            switch self {
            case .alias(_, let mark), .sequenceStart(_, let mark), .mappingStart(_, let mark): mark
            case .scalar(let scalar, _): scalar.mark
            default: nil
            }
        }
    }

    func document() throws(YAMLError) -> YAMLNode? {
        guard case .streamStart = try next() else { throw YAMLError(mark: nil, problem: "expected the start of the text") }
        switch try next() {
        case .streamEnd: return nil
        case .documentStart: break
        default: throw YAMLError(mark: nil, problem: "expected a document")
        }
        let root = try node(try next(), depth: 0)
        guard case .documentEnd = try next() else { throw YAMLError(mark: nil, problem: "expected the end of the document") }
        if case .documentStart = try next() {
            throw YAMLError(mark: YAMLMark(parser.pointee.mark), problem: "expected one document, found more (---)")
        }
        return root
    }

    private func node(_ event: Event, depth: Int) throws(YAMLError) -> YAMLNode {
        switch event {
        case .alias(let anchor, let mark):
            guard let node = anchors[anchor] else { throw YAMLError(mark: mark, problem: "alias *\(anchor) names no anchor before it") }
            return node
        case .scalar(let scalar, let anchor):
            return register(.scalar(scalar), anchor)
        case .sequenceStart(let anchor, let mark):
            try bound(depth, mark)
            var items: [YAMLNode] = []
            while true {
                let event = try next()
                if case .sequenceEnd = event { break }
                items.append(try node(event, depth: depth + 1))
            }
            return register(.sequence(items, mark), anchor)
        case .mappingStart(let anchor, let mark):
            try bound(depth, mark)
            var pairs: [(key: YAMLNode.Scalar, value: YAMLNode)] = []
            var seen: Set<String> = []
            while true {
                let event = try next()
                if case .mappingEnd = event { break }
                // Only a scalar may be a key: an alias or a collection as key is what makes
                // comparing keys cost unbounded work, and a configuration never needs one.
                guard case .scalar(let key, _) = event else {
                    throw YAMLError(mark: event.mark ?? YAMLMark(parser.pointee.mark), problem: "a mapping key must be a plain string, not an alias, a sequence or a mapping")
                }
                guard seen.insert(key.string).inserted else {
                    throw YAMLError(mark: key.mark, problem: "duplicate key \"\(key.string)\" in the mapping at line \(mark.line)")
                }
                pairs.append((key, try node(try next(), depth: depth + 1)))
            }
            return register(.mapping(pairs, mark), anchor)
        default:
            throw YAMLError(mark: YAMLMark(parser.pointee.mark), problem: "unexpected event")
        }
    }

    private func bound(_ depth: Int, _ mark: YAMLMark) throws(YAMLError) {
        guard depth < YAMLNode.maxDepth else { throw YAMLError(mark: mark, problem: "nested deeper than \(YAMLNode.maxDepth) levels") }
    }

    private func register(_ node: YAMLNode, _ anchor: String?) -> YAMLNode {
        if let anchor { anchors[anchor] = node }
        return node
    }

    private func next() throws(YAMLError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw failure() }
        defer { yaml_event_delete(&event) }
        let mark = YAMLMark(event.start_mark)
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        case YAML_ALIAS_EVENT:
            return .alias(string(event.data.alias.anchor) ?? "", mark)
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: Int(s.length)), as: UTF8.self)
            let scalar = YAMLNode.Scalar(text, isPlain: s.style == YAML_PLAIN_SCALAR_STYLE, tag: string(s.tag), mark: mark)
            return .scalar(scalar, anchor: string(s.anchor))
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: string(event.data.sequence_start.anchor), mark)
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: string(event.data.mapping_start.anchor), mark)
        default:
            throw YAMLError(mark: mark, problem: "unexpected event")
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// libyaml's own words (fixed texts, never the document's) with its positions.
    private func failure() -> YAMLError {
        let p = parser.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "cannot be parsed"
        switch p.error {
        case YAML_READER_ERROR:
            // The reader reports a byte offset; a position a person can find is line and column.
            let before = input.prefix(Int(p.problem_offset))
            let line = before.count { $0 == UInt8(ascii: "\n") } + 1
            let column = before.reversed().prefix { $0 != UInt8(ascii: "\n") }.count + 1
            return YAMLError(mark: YAMLMark(line: line, column: column), problem: problem)
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            let context = p.context.map { " (\(String(cString: $0)) at line \(p.context_mark.line + 1), column \(p.context_mark.column + 1))" } ?? ""
            return YAMLError(mark: YAMLMark(p.problem_mark), problem: problem + context)
        default:
            return YAMLError(mark: nil, problem: problem)
        }
    }
}
