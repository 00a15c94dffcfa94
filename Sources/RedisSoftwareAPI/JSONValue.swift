import Foundation

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

    public static func parse(_ bytes: some Collection<UInt8>) throws(DecodeError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw DecodeError("body is not JSON")
        }
    }
}

extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Each failed guess costs the decoder an error value, so the common leaves come first.
        // The decoder is strict (it reads neither true as a number nor 1 as a Bool), so the
        // order decides speed only.
        if container.decodeNil() {
            self = .null
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let o = try? container.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
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
