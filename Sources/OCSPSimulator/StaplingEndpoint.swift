import CStaplingServer

/// A TLS endpoint on loopback that staples an OCSP response made in-process, as a cluster's
/// proxy does: GOOD, REVOKED or none. The demo's clusters probe these, so the stapled view is
/// filled without a real cluster.
public final class StaplingEndpoint: @unchecked Sendable {
    public let port: Int
    /// The certificate it serves.
    public let certificatePEM: String
    /// Only start and stop touch it, and stop once.
    private let server: OpaquePointer

    /// - Parameters:
    ///   - issuer: issues the endpoint's certificate and signs its OCSP responses.
    ///   - status: what the stapled response says (GOOD or REVOKED, with its times); nil staples nothing.
    public init(issuer: SimulatorCA, status: CertificateStatus?) throws {
        let (certificate, key) = try issuer.issueServerCertificate()
        var port: Int32 = 0
        var error = [CChar](repeating: 0, count: 256)
        let kind = switch status?.certStatus {
        case nil: ROCSP_STAPLE_NONE
        case "REVOKED": ROCSP_STAPLE_REVOKED
        default: ROCSP_STAPLE_GOOD
        }
        guard let server = rocsp_stapling_server_start(
            certificate, key, issuer.caCertificatePEM, issuer.caKeyPEM, kind, status?.thisUpdate ?? 0, status?.nextUpdate ?? 0,
            status?.revocationTime ?? 0, &port, &error
        ) else {
            throw SimulatorError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.server = server
        self.port = Int(port)
        certificatePEM = certificate
    }

    /// The answer the endpoint's OCSP responder gives to a DER OCSP request: the response it
    /// staples, signed now, when the request is about its certificate; nil otherwise.
    public func answer(_ request: [UInt8]) -> [UInt8]? {
        var der: UnsafeMutablePointer<UInt8>?
        let length = request.withUnsafeBufferPointer { rocsp_stapling_server_answer(server, $0.baseAddress, $0.count, &der) }
        guard length > 0, let der else { return nil }
        defer { rocsp_stapling_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: Int(length)))
    }

    public func stop() {
        rocsp_stapling_server_stop(server)
    }
}
