import Crypto
import FoundationEssentials
import SwiftASN1
import X509

/// A throwaway certificate authority and a server certificate for localhost and 127.0.0.1,
/// made in memory at start, so the simulator serves real HTTPS (and the demo's stapling
/// endpoints real TLS with signed OCSP responses) with no files or tools.
public struct SimulatorCA: Sendable {
    public let caCertificatePEM: String
    /// Signs the stapling endpoints' OCSP responses.
    let caKeyPEM: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String
    private let caKey: P256.Signing.PrivateKey
    private let caName: DistinguishedName
    private let validity: TimeInterval

    /// Certificates last 90 days, as public CAs issue them, so they are past the 30 days at
    /// which RedisClusterCertificateExpiring warns.
    public init(validity: TimeInterval = 90 * 86_400) throws {
        let now = Date()
        caKey = P256.Signing.PrivateKey()
        caName = try DistinguishedName {
            OrganizationName("redis-ocsp-exporter")
            CommonName("Simulated Redis Software CA")
        }
        self.validity = validity
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + validity,
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey)
        )
        caCertificatePEM = try ca.serializeAsPEM().pemString
        caKeyPEM = caKey.pemRepresentation
        (serverCertificatePEM, serverKeyPEM) = try Self.issueServerCertificate(caKey: caKey, caName: caName, validity: validity)
    }

    /// Another server certificate for localhost and 127.0.0.1 and its key, as PEM.
    func issueServerCertificate() throws -> (certificate: String, key: String) {
        try Self.issueServerCertificate(caKey: caKey, caName: caName, validity: validity)
    }

    private static func issueServerCertificate(caKey: P256.Signing.PrivateKey, caName: DistinguishedName,
                                               validity: TimeInterval) throws -> (certificate: String, key: String) {
        let now = Date()
        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + validity,
            issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: .init(caKey)
        )
        return (try server.serializeAsPEM().pemString, serverKey.pemRepresentation)
    }
}
