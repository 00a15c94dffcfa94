import CStaplingProbe
import NIOPosix
import RedisSoftwareAPI

/// One TLS handshake with an endpoint, seen as a client that asks for OCSP stapling sees it,
/// through OpenSSL (the C target CStaplingProbe).
enum StaplingProbe {
    /// OpenSSL's handshake blocks its thread here, so probes get threads of their own: event
    /// loops and the concurrency pool never wait on a slow server. Each probe holds a thread
    /// for at most its timeout; more probes than threads queue, and queueing counts against
    /// the timeout.
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Probes `endpoint`; returns what the handshake showed, or why it failed, and the
    /// seconds it took. `keepCertificates` keeps the leaf and its issuer too (`Handshake.certificates`).
    static func run(_ endpoint: ProbeEndpoint, config: StaplingProbeConfig, keepCertificates: Bool = false)
        async -> (Result<Handshake, CheckFailure>, Double)
    {
        let start = ContinuousClock.now
        let result: Result<Handshake, CheckFailure>
        do {
            result = try await threads.runIfActive {
                assert(MultiThreadedEventLoopGroup.currentEventLoop == nil, "the stapling probe blocks; never on an event loop")
                let left = config.timeout - (ContinuousClock.now - start)
                let milliseconds = max(1, Int32(clamping: left.milliseconds))
                var raw = rocsp_result()
                var leaf = [UInt8](repeating: 0, count: keepCertificates ? Int(ROCSP_MAX_DER) : 0)
                var issuer = leaf
                var kept = rocsp_certificates()
                func probe(_ keep: UnsafeMutablePointer<rocsp_certificates>?) {
                    if let pem = config.caPEM {
                        pem.withUnsafeBufferPointer { buffer in
                            buffer.withMemoryRebound(to: CChar.self) {
                                rocsp_probe(endpoint.host, Int32(endpoint.port), config.serverName, $0.baseAddress, $0.count, milliseconds, keep, &raw)
                            }
                        }
                    } else {
                        rocsp_probe(endpoint.host, Int32(endpoint.port), config.serverName, nil, 0, milliseconds, keep, &raw)
                    }
                }
                if keepCertificates {
                    leaf.withUnsafeMutableBufferPointer { leafBuffer in
                        issuer.withUnsafeMutableBufferPointer { issuerBuffer in
                            kept.leaf = leafBuffer.baseAddress
                            kept.issuer = issuerBuffer.baseAddress
                            probe(&kept)
                        }
                    }
                } else {
                    probe(nil)
                }
                var result = interpret(raw)
                if case .success(var handshake) = result, kept.leaf_length > 0, kept.issuer_length > 0 {
                    let url = text(kept.ocsp_url)
                    handshake.certificates = SeenCertificates(leaf: Array(leaf.prefix(kept.leaf_length)), issuer: Array(issuer.prefix(kept.issuer_length)),
                                                              ocspURL: url.isEmpty ? nil : url)
                    result = .success(handshake)
                }
                return result
            }
        } catch {
            result = .failure(CheckFailure(code: CheckFailure.connectionFailed, message: "the probe thread pool is shut down"))
        }
        return (result, (ContinuousClock.now - start).seconds)
    }

    static func interpret(_ raw: rocsp_result) -> Result<Handshake, CheckFailure> {
        let message = text(raw.message)
        switch raw.error {
        case ROCSP_OK: break
        case ROCSP_TIMEOUT: return .failure(CheckFailure(code: CheckFailure.timeout, message: message))
        case ROCSP_TLS_ERROR: return .failure(CheckFailure(code: CheckFailure.tlsError, message: message))
        default: return .failure(CheckFailure(code: CheckFailure.connectionFailed, message: message))
        }
        func time(_ has: Int32, _ value: Int64) -> Int64? { has != 0 ? value : nil }
        let chainVerified: Bool? = raw.chain_verified < 0 ? nil : raw.chain_verified == 1
        let sha256 = raw.has_leaf_sha256 != 0 ? withUnsafeBytes(of: raw.leaf_sha256) { CertificateInfo.hex($0) } : nil
        return .success(Handshake(leafNotAfter: time(raw.has_not_after, raw.not_after), leafSHA256: sha256,
                                  staple: raw.staple_present != 0 ? response(raw, message: message) : nil,
                                  chainVerified: chainVerified))
    }

    /// The OCSP response fields of a result: a staple's, or a responder's answer's.
    static func response(_ raw: rocsp_result, message: String) -> Staple {
        func time(_ has: Int32, _ value: Int64) -> Int64? { has != 0 ? value : nil }
        let status: OCSPStatus.CertStatus? = switch raw.cert_status {
        case ROCSP_STATUS_GOOD: .good
        case ROCSP_STATUS_REVOKED: .revoked
        case ROCSP_STATUS_UNKNOWN: .unknown
        default: nil
        }
        let verified = raw.matches_leaf != 0 && raw.signature_valid != 0
        return Staple(
            verified: verified, problem: verified ? nil : message, certStatus: status,
            producedAt: time(raw.has_produced_at, raw.produced_at), thisUpdate: time(raw.has_this_update, raw.this_update),
            nextUpdate: time(raw.has_next_update, raw.next_update),
            revocationTime: time(raw.has_revocation_time, raw.revocation_time),
            signerNotAfter: time(raw.has_signer, raw.signer_not_after), signerDelegated: raw.has_signer != 0 ? raw.signer_delegated != 0 : nil
        )
    }

    /// A NUL-terminated C string field, as the text it holds.
    static func text<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// The leaf a handshake served and the issuer the probe trusts for it (DER), and the leaf's
/// OCSP URL (authorityInfoAccess): what the responder probe asks about.
struct SeenCertificates: Sendable, Equatable {
    var leaf: [UInt8]
    var issuer: [UInt8]
    var ocspURL: String?
}

/// What a TLS handshake with one endpoint showed a client that asks for stapling.
struct Handshake: Sendable, Equatable {
    /// notAfter of the served leaf certificate, as Unix time.
    var leafNotAfter: Int64?
    /// Lower-case hex SHA-256 of the served leaf's DER.
    var leafSHA256: String?
    /// nil when the server stapled nothing.
    var staple: Staple?
    /// Whether the served chain verifies against the probe's ca_file; nil without one.
    var chainVerified: Bool?
    /// Kept only where asked for (`StaplingProbe.run(keepCertificates:)`).
    var certificates: SeenCertificates?

    init(leafNotAfter: Int64?, leafSHA256: String? = nil, staple: Staple?, chainVerified: Bool? = nil, certificates: SeenCertificates? = nil) {
        self.leafNotAfter = leafNotAfter
        self.leafSHA256 = leafSHA256
        self.staple = staple
        self.chainVerified = chainVerified
        self.certificates = certificates
    }
}

/// The OCSP response a server stapled, as parsed and checked by the probe.
struct Staple: Sendable, Equatable {
    /// The response is for the served leaf (CertID match) and its signature verifies against
    /// the leaf's issuer.
    var verified: Bool
    /// Why it is not verified; nil when it is.
    var problem: String?
    /// nil when the response carries no single response (or no successful response at all).
    var certStatus: OCSPStatus.CertStatus?
    var producedAt: Int64?
    var thisUpdate: Int64?
    var nextUpdate: Int64?
    var revocationTime: Int64?
    /// notAfter of the certificate that signed the response.
    var signerNotAfter: Int64?
    /// Whether a delegated responder certificate signed it, rather than the issuer itself.
    var signerDelegated: Bool?

    init(verified: Bool, problem: String?, certStatus: OCSPStatus.CertStatus?, producedAt: Int64?, thisUpdate: Int64?,
         nextUpdate: Int64?, revocationTime: Int64?, signerNotAfter: Int64? = nil, signerDelegated: Bool? = nil) {
        self.verified = verified
        self.problem = problem
        self.certStatus = certStatus
        self.producedAt = producedAt
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.revocationTime = revocationTime
        self.signerNotAfter = signerNotAfter
        self.signerDelegated = signerDelegated
    }
}
