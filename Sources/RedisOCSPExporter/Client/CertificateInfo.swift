import CStaplingProbe

/// What identifies a certificate across sources (the cluster's API, a TLS handshake): its
/// SHA-256 fingerprint and notAfter, read through the OpenSSL the probe links.
struct CertificateInfo: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the DER.
    var sha256: String
    /// notAfter, as Unix time.
    var notAfter: Int64

    /// The first certificate of a PEM text; nil when it holds none that parses.
    init?(pem: String) {
        var notAfter: Int64 = 0
        var digest = [UInt8](repeating: 0, count: 32)
        let utf8 = Array(pem.utf8)
        let ok = utf8.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { rocsp_certificate_info($0.baseAddress, $0.count, &notAfter, &digest) }
        }
        guard ok == 1 else { return nil }
        self.sha256 = Self.hex(digest)
        self.notAfter = notAfter
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]] }
        return String(decoding: out, as: UTF8.self)
    }
}
