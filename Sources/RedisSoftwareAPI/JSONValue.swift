/// A parsed JSON document. API objects are read through it rather than through `Decodable`
/// structs so that each field's type rule is explicit: 3800.0 is an integer, "3800" is not,
/// and unknown fields are simply never looked at.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Arrays and objects nested deeper than this are refused; API objects nest a few levels.
    public static let maxDepth = 128

    /// Parses RFC 8259 JSON, choosing each value's type by its first byte: a body of many
    /// small values costs one pass, not one failed guess per type per value.
    public static func parse(_ bytes: some Collection<UInt8>) throws(DecodeError) -> JSONValue {
        let result: Result<JSONValue, DecodeError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var parser = JSONParser(buffer)
            return Result { () throws(DecodeError) in try parser.document() }
        }
        return try (result ?? Array(bytes).withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            return Result { () throws(DecodeError) in try parser.document() }
        }).get()
    }
}

private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// The fields of the objects open now, innermost last: one buffer reused by every object
    /// of the document instead of an array grown for each.
    var fields: [(String, JSONValue)] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws(DecodeError) -> JSONValue {
        let value = try self.value()
        skipSpace()
        guard index == bytes.count else { throw fail("unexpected text after the value") }
        return value
    }

    private func fail(_ problem: String) -> DecodeError {
        DecodeError("body is not JSON: \(problem) at byte \(index)")
    }

    private mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func value() throws(DecodeError) -> JSONValue {
        skipSpace()
        guard index < bytes.count else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try nested { (p) throws(DecodeError) in try p.object() })
        case UInt8(ascii: "["): return .array(try nested { (p) throws(DecodeError) in try p.array() })
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("expected a value")
        }
    }

    private mutating func nested<T>(_ body: (inout JSONParser) throws(DecodeError) -> T) throws(DecodeError) -> T {
        guard depth < JSONValue.maxDepth else { throw fail("nested deeper than \(JSONValue.maxDepth) levels") }
        depth += 1
        defer { depth -= 1 }
        index += 1
        return try body(&self)
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func object() throws(DecodeError) -> [String: JSONValue] {
        // Collected first, then hashed once into a table of the right size: inserted one by
        // one, a node's forty fields rehash the table at each of six growths.
        if consume(UInt8(ascii: "}")) { return [:] }
        let start = fields.count
        defer { fields.removeSubrange(start...) }
        repeat {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let key = try string()
            guard consume(UInt8(ascii: ":")) else { throw fail("expected ':'") }
            let value = try value()
            fields.append((key, value))
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { throw fail("expected ',' or '}'") }
        // A repeated key keeps its last value, as most parsers do.
        return Dictionary(fields[start...]) { _, last in last }
    }

    private mutating func array() throws(DecodeError) -> [JSONValue] {
        var items: [JSONValue] = []
        if consume(UInt8(ascii: "]")) { return items }
        repeat {
            items.append(try value())
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "]")) else { throw fail("expected ',' or ']'") }
        return items
    }

    private mutating func literal(_ word: StaticString) throws(DecodeError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
              UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[index..<index + count]) else {
            throw fail("expected a value")
        }
        index += count
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    private mutating func number() throws(DecodeError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let leadingZero = index < bytes.count && bytes[index] == UInt8(ascii: "0")
        let integer = digits()
        guard integer > 0, !(leadingZero && integer > 1) else { throw fail("malformed number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("malformed number") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("malformed number") }
        }
        guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else {
            throw fail("number out of range")
        }
        return value
    }

    private mutating func string() throws(DecodeError) -> String {
        index += 1
        // Most strings have no escapes: made from the bytes in place, without a copy first.
        let start = index
        var bits: UInt8 = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
            bits |= bytes[index]
            index += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
            index += 1
            let text = UnsafeBufferPointer(rebasing: bytes[start..<index - 1])
            // ASCII is valid UTF-8 as it is: decoding it is exact and skips the generic
            // validation, whose metadata lookups cost more than the string.
            if bits < 0x80 { return String(decoding: text, as: UTF8.self) }
            guard let text = String(validating: text, as: UTF8.self) else { throw fail("string is not UTF-8") }
            return text
        }
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw fail("string is not UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                try escape(into: &utf8)
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                utf8.append(byte)
            }
        }
        throw fail("unterminated string")
    }

    private mutating func escape(into utf8: inout [UInt8]) throws(DecodeError) {
        guard index < bytes.count else { throw fail("unterminated string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate") }
            utf8.append(contentsOf: UTF8.encode(scalar)!)
        default:
            throw fail("unknown escape")
        }
    }

    private mutating func hex4() throws(DecodeError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("malformed \\u escape") }
        var code: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = Character(UnicodeScalar(byte)).hexDigitValue else { throw fail("malformed \\u escape") }
            code = code << 4 | UInt32(digit)
        }
        index += 4
        return code
    }
}

/// Why a body could not be read as the expected API object; becomes `invalid_response`.
public struct DecodeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed access to the fields of a JSON object, with messages that name the field.
public struct JSONObject {
    public let fields: [String: JSONValue]
    public let context: String

    public init(_ value: JSONValue, context: String) throws(DecodeError) {
        guard case .object(let fields) = value else { throw DecodeError("\(context): expected a JSON object") }
        self.fields = fields
        self.context = context
    }

    private func present(_ key: String) -> JSONValue? {
        switch fields[key] {
        case nil, .null?: return nil
        case let value?: return value
        }
    }

    public func string(_ key: String) throws(DecodeError) -> String? {
        guard let value = present(key) else { return nil }
        guard case .string(let s) = value else { throw DecodeError("\(context).\(key): expected a string") }
        return s
    }

    public func bool(_ key: String) throws(DecodeError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard case .bool(let b) = value else { throw DecodeError("\(context).\(key): expected true or false") }
        return b
    }

    /// An integer; a JSON number with no fractional part (3800.0) counts as one.
    public func int(_ key: String) throws(DecodeError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard case .number(let n) = value, n.rounded() == n, abs(n) < 9.0e15 else {
            throw DecodeError("\(context).\(key): expected an integer")
        }
        return Int64(n)
    }

    public func required<T>(_ key: String, _ read: (String) throws(DecodeError) -> T?) throws(DecodeError) -> T {
        guard let value = try read(key) else { throw DecodeError("\(context).\(key): required field is missing") }
        return value
    }
}
