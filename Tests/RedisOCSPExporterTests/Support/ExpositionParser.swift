/// A strict reader of the text exposition format for tests: label escapes undone, labels
/// sorted, values and bucket bounds compared by meaning, so two encoders can be checked parse-for-parse.
struct ParsedExposition: Equatable {
    struct Series: Hashable, CustomStringConvertible {
        var name: String
        var labels: [String: String]
        var description: String { "\(name)\(labels.sorted { $0.key < $1.key })" }
    }

    var samples: [Series: Double] = [:]
    var help: [String: String] = [:]
    var types: [String: String] = [:]

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples[Series(name: name, labels: labels)]
    }

    static func == (a: ParsedExposition, b: ParsedExposition) -> Bool {
        a.help == b.help && a.types == b.types && a.samples.keys == b.samples.keys
            && a.samples.allSatisfy { key, value in
                let other = b.samples[key]!
                return value == other || (value.isNaN && other.isNaN)
            }
    }

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
                if line.hasPrefix("# HELP ") { help[parts[0]] = parts.count > 1 ? parts[1] : "" } else { types[parts[0]] = parts[1] }
                continue
            }
            var chars = Array(line.unicodeScalars)[...]
            let name = String(String.UnicodeScalarView(chars.prefix { $0 != "{" && $0 != " " }))
            chars = chars.dropFirst(name.unicodeScalars.count)
            var labels: [String: String] = [:]
            if chars.first == "{" {
                chars = chars.dropFirst()
                while chars.first != "}" {
                    if chars.first == "," { chars = chars.dropFirst() }
                    let key = String(String.UnicodeScalarView(chars.prefix { $0 != "=" }))
                    chars = chars.dropFirst(key.unicodeScalars.count)
                    guard chars.popFirst() == "=", chars.popFirst() == "\"" else { throw HarnessError("bad label in \(line)") }
                    var value = String.UnicodeScalarView()
                    while let c = chars.popFirst(), c != "\"" {
                        if c == "\\" {
                            switch chars.popFirst() {
                            case "n": value.append("\n")
                            case "\\": value.append("\\")
                            case "\"": value.append("\"")
                            default: throw HarnessError("bad escape in \(line)")
                            }
                        } else {
                            value.append(c)
                        }
                    }
                    // le is a number: "1" and "1.0" are the same bucket (Prometheus 3 normalizes them).
                    labels[key] = key == "le" ? Double(String(value)).map { "\($0)" } ?? String(value) : String(value)
                }
                chars = chars.dropFirst()
            }
            guard chars.popFirst() == " " else { throw HarnessError("no value in \(line)") }
            let text = String(String.UnicodeScalarView(chars))
            let value: Double? = switch text.lowercased() {
            case "+inf", "inf": .infinity
            case "-inf": -.infinity
            case "nan": .nan
            default: Double(text)
            }
            guard let value else { throw HarnessError("bad value in \(line)") }
            samples[Series(name: name, labels: labels)] = value
        }
    }
}
