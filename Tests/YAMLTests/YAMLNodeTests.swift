import Testing
import YAML

@Suite(.tags(.unit))
struct YAMLNodeTests {
    private func problem(_ text: String) -> String? {
        do {
            _ = try YAMLNode.compose(text)
            return nil
        } catch {
            return error.description
        }
    }

    /// A key that is an alias of a large node made the previous parser compare huge trees for
    /// duplicate keys (minutes of CPU for a 1 KB file). Such a key is refused as it is read.
    @Test func aliasAndCollectionKeysAreRefusedBeforeComposing() {
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            laughs += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let keyed = laughs + "? *a9\n: 1\n? *a9\n: 2\n"
        #expect(keyed.utf8.count < 1024)
        #expect(problem(keyed) == "line 11, column 3: a mapping key must be a plain string, not an alias, a sequence or a mapping")
        #expect(problem("? [a, b]\n: 1\n")?.contains("a mapping key must be a plain string") == true)
        #expect(problem("? {a: 1}\n: 1\n")?.contains("a mapping key must be a plain string") == true)
        // As a value an alias is shared, not copied: the same file without alias keys composes.
        guard case .mapping(let pairs, _)? = try? YAMLNode.compose(laughs) else {
            Issue.record("the anchors alone should compose")
            return
        }
        #expect(pairs.count == 10)
    }

    @Test func aliasesAsValuesShareTheAnchoredNode() throws {
        let root = try #require(try YAMLNode.compose("tls: &tls {ca_file: /ca.pem}\nother: *tls\n"))
        guard case .mapping(let pairs, _) = root, case .mapping(let other, _) = pairs[1].value else {
            Issue.record("expected two mappings")
            return
        }
        #expect(other.map(\.key.string) == ["ca_file"])
        #expect(other.first?.value.scalar?.string == "/ca.pem")
        #expect(problem("a: *nowhere\n") == "line 1, column 4: alias *nowhere names no anchor before it")
    }

    @Test func duplicateKeysNameTheirLine() {
        #expect(problem("a: 1\nb:\n  c: 1\n  c: 2\n") == "line 4, column 3: duplicate key \"c\" in the mapping at line 3")
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: YAMLNode.maxDepth + 1) + String(repeating: "]", count: YAMLNode.maxDepth + 1)
        #expect(problem(deep) == "line 1, column \(YAMLNode.maxDepth + 1): nested deeper than \(YAMLNode.maxDepth) levels")
        let deepest = String(repeating: "[", count: YAMLNode.maxDepth) + String(repeating: "]", count: YAMLNode.maxDepth)
        #expect(problem(deepest) == nil)
    }

    @Test func oneDocumentOrNone() throws {
        #expect(try YAMLNode.compose("") == nil)
        #expect(try YAMLNode.compose("# only a comment\n") == nil)
        #expect(problem("a: 1\n---\nb: 2\n")?.contains("expected one document") == true)
    }

    /// YAML 1.1 booleans, as configuration files write them; quoted text stays text.
    @Test(arguments: [
        ("true", true as Bool?), ("Yes", true), ("ON", true), ("false", false), ("no", false), ("off", false),
        ("\"true\"", nil), ("'no'", nil), ("!!str true", nil), ("!!bool \"true\"", true), ("maybe", nil), ("1", nil),
    ])
    func booleans(_ text: String, _ expected: Bool?) throws {
        #expect(try YAMLNode.compose("v: \(text)\n").flatMap { node -> Bool? in
            guard case .mapping(let pairs, _) = node else { return nil }
            return pairs[0].value.scalar?.bool
        } == expected)
    }

    /// Errors give where and what, never the text of the line, which may hold a password.
    @Test(arguments: [
        "clusters:\n  - name: a\n    password: hunter2-SECRET: oops\n",
        "clusters: [{name: a, password: \"hunter2-SECRET}\n",
        "clusters:\n\t- password: hunter2-SECRET\n",
        "password: \"hunter2-SECRET\u{7}\"\n\u{FF}",
    ])
    func errorsNeverQuoteTheText(_ text: String) throws {
        let message = try #require(problem(text))
        #expect(!message.contains("hunter2"), "\(message)")
        #expect(message.hasPrefix("line "), "\(message)")
    }

    @Test func marksCountFromOne() throws {
        guard case .mapping(let pairs, let mark)? = try YAMLNode.compose("\na:\n  - b\n") else {
            Issue.record("expected a mapping")
            return
        }
        #expect(mark == YAMLMark(line: 2, column: 1))
        #expect(pairs[0].key.mark == YAMLMark(line: 2, column: 1))
        #expect(pairs[0].value.mark == YAMLMark(line: 3, column: 3))
    }
}
