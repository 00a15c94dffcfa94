/// Whether a client's Accept-Encoding lets /metrics answer in gzip (RFC 9110 §12.5.3). Parsed
/// on bytes, without Foundation: it runs on every scrape, on the event loop.
enum AcceptEncoding {
    /// True when gzip is acceptable (an explicit `gzip` or `x-gzip` weight wins over `*`, and
    /// `q=0` refuses) and not less preferred than an identity the header lists itself.
    static func prefersGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Double?, identity: Double?, any: Double?
        for item in header.utf8.split(separator: UInt8(ascii: ",")) {
            let parts = item.split(separator: UInt8(ascii: ";")).map { trimmed($0).map { $0 | 0x20 } }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var weight = 1.0
            if let q = parts.dropFirst().first(where: { $0.starts(with: "q=".utf8) }) {
                guard let value = qvalue(q.dropFirst(2)) else { continue }  // a malformed weight counts as not listed
                weight = value
            }
            if coding.elementsEqual("gzip".utf8) || coding.elementsEqual("x-gzip".utf8) {
                gzip = max(gzip ?? 0, weight)
            } else if coding.elementsEqual("identity".utf8) {
                identity = weight
            } else if coding.elementsEqual("*".utf8) {
                any = weight
            }
        }
        let gzipWeight = gzip ?? any ?? 0
        return gzipWeight > 0 && gzipWeight >= (identity ?? 0)
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isSpace = { (c: UInt8) in c == 0x20 || c == 0x09 }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return bytes[start...end]
    }

    /// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    private static func qvalue(_ bytes: ArraySlice<UInt8>) -> Double? {
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        let rest = bytes.dropFirst()
        var fraction = 0.0, scale = 0.1
        if let dot = rest.first {
            let digits = rest.dropFirst()
            guard dot == UInt8(ascii: "."), digits.count <= 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            for digit in digits {
                fraction += Double(digit - 0x30) * scale
                scale /= 10
            }
        }
        let value = Double(first - 0x30) + fraction
        return value <= 1 ? value : nil
    }
}
