import Foundation
import Testing
@testable import RedisSoftwareAPI

@Suite(.tags(.unit))
struct JSONParsingTests {
    /// The parser agrees with Foundation's on what each valid document holds.
    @Test(arguments: [
        #"{"a": 1, "b": [true, false, null], "c": {"d": "e"}}"#,
        #"  [ -0, 0.5, 1e3, -2.5E-3, 123456789012, 3800.0 ]  "#,
        #""plain""#, "true", "null", "-1",
        #"["\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r", "é😀"]"#,
        #"{"a": 1, "a": 2}"#,
        "[[], {}, [[]], [{}]]",
    ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try JSONValue.parse(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(ours == Self.value(theirs), "\(text)")
    }

    private static func value(_ any: Any) -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let n as NSNumber where String(cString: n.objCType) == "c": return .bool(n.boolValue)
        case let n as NSNumber: return .number(n.doubleValue)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(a.map(value))
        case let o as [String: Any]: return .object(o.mapValues(value))
        default: return .null
        }
    }

    @Test(arguments: [
        "", " ", "[", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "{a: 1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "1e400",
        "tru", "nul", "[1] x", "\"\u{1}\"", "\"abc", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "'a'",
    ])
    func rejectsWhatIsNotJSON(_ text: String) {
        #expect(throws: DecodeError.self, "\(text)") { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: DecodeError.self) { try JSONValue.parse([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) }
    }

    @Test func nestingIsBounded() throws {
        let limit = JSONValue.maxDepth
        _ = try JSONValue.parse(Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8))
        #expect(throws: DecodeError.self) {
            try JSONValue.parse(Array((String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)).utf8))
        }
    }

    /// The body shape that cost 0.6 s of CPU per poll with type guessing (bench/ measures the
    /// time); here, that it parses to what it is.
    @Test func aMebibyteOfEmptyArrays() throws {
        let body = "[" + Array(repeating: "[]", count: 349_000).joined(separator: ",") + "]"
        guard case .array(let items) = try JSONValue.parse(Array(body.utf8)) else {
            Issue.record("expected an array")
            return
        }
        #expect(items.count == 349_000)
        #expect(items.allSatisfy { $0 == .array([]) })
    }
}
