import CStaplingServer

/// A throwaway certificate authority and a server certificate for localhost and 127.0.0.1,
/// made in memory at start (EC P-256, through the system's OpenSSL), so the simulator serves
/// real HTTPS (and the demo's stapling endpoints real TLS with signed OCSP responses) with no
/// files or tools.
public struct SimulatorCA: Sendable {
    public let caCertificatePEM: String
    /// Signs the stapling endpoints' OCSP responses.
    let caKeyPEM: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String
    private let validity: Int64

    /// Certificates last 90 days, as public CAs issue them, so they are past the 30 days at
    /// which RedisClusterCertificateExpiring warns.
    public init(validitySeconds: Int64 = 90 * 86_400) throws {
        validity = validitySeconds
        (caCertificatePEM, caKeyPEM) = try Self.pems { rocsp_make_ca(validitySeconds, $0, $1, $2) }
        (serverCertificatePEM, serverKeyPEM) = try Self.pems { [caCertificatePEM, caKeyPEM] in
            rocsp_issue_server_certificate(caCertificatePEM, caKeyPEM, validitySeconds, $0, $1, $2)
        }
    }

    /// Another server certificate for localhost and 127.0.0.1 and its key, as PEM.
    func issueServerCertificate() throws -> (certificate: String, key: String) {
        try Self.pems { [caCertificatePEM, caKeyPEM, validity] in
            rocsp_issue_server_certificate(caCertificatePEM, caKeyPEM, validity, $0, $1, $2)
        }
    }

    /// A certificate and key that `make` writes as PEM, or its error.
    private static func pems(_ make: (UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>) -> Int32) throws -> (String, String) {
        var certificate = [CChar](repeating: 0, count: Int(ROCSP_PEM_MAX))
        var key = certificate
        var error = [CChar](repeating: 0, count: 256)
        let ok = certificate.withUnsafeMutableBufferPointer { c in
            key.withUnsafeMutableBufferPointer { k in error.withUnsafeMutableBufferPointer { make(c.baseAddress!, k.baseAddress!, $0.baseAddress!) } }
        }
        func text(_ buffer: [CChar]) -> String { String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        guard ok == 1 else { throw SimulatorError(text(error)) }
        return (text(certificate), text(key))
    }
}
