import FoundationEssentials

/// The one way the exporter writes JSON: an Encodable value, keys sorted so the output is
/// stable, slashes as they are.
enum JSONOutput {
    static func encode(_ value: some Encodable, pretty: Bool = false, snakeCase: Bool = false) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        // Every value written is made of strings, numbers and containers, which always encode.
        return Array((try? encoder.encode(value)) ?? Data("null".utf8))
    }
}
