import AsyncHTTPClient
import CStaplingProbe
import NIOCore
import NIOHTTP1

/// Asks an OCSP responder about one certificate as a cluster does: a DER request over HTTP
/// POST (RFC 6960 appendix A, RFC 5019), the answer checked as the stapling probe checks a
/// staple. Never sends the cluster's credentials.
enum OCSPResponderClient {
    /// OCSP answers are a few kilobytes; anything past this is not one.
    static let maxBodyBytes = 64 * 1024

    /// The client every responder probe shares, for the life of the process: responders are
    /// few and asked rarely, at an address the certificate names.
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // A connection that fails is reported as what it was (refused, reset, TLS), not retried
        // until the timeout passes and makes it a `timeout`.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The error codes of the responder probe besides the transport ones (`timeout`,
    /// `connection_failed`, `tls_error`, `response_too_large`, `http_<status>`).
    enum Code {
        /// The answer is not an OCSP response (an HTML page, say).
        static let invalidResponse = CheckFailure.invalidResponse
        /// responseStatus other than successful (RFC 6960 4.2.1).
        static let malformed = "malformed", internalError = "internal_error", tryLater = "try_later"
        static let sigRequired = "sig_required", unauthorized = "unauthorized"
        /// A successful answer about another certificate.
        static let wrongCertificate = "wrong_certificate"
        /// Signed by neither the issuer nor a responder it delegated to.
        static let signatureInvalid = "signature_invalid"
        /// No request could be made: no handshake showed the certificate, the issuer is not
        /// known, no responder URL, or one the probe cannot use.
        static let noCertificate = "no_certificate", noIssuer = "no_issuer", noResponderURL = "no_responder_url"
        static let unsupportedURL = "unsupported_url"
    }

    /// The answer the responder gave about `certificates`, checked; or why there is none.
    /// Throws only when cancelled.
    static func ask(_ url: String, about certificates: SeenCertificates, http: HTTPClient = http, timeout: Duration) async throws -> Result<Staple, CheckFailure> {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let length = certificates.leaf.withUnsafeBufferPointer { leaf in
            certificates.issuer.withUnsafeBufferPointer { issuer in
                buffer.withUnsafeMutableBufferPointer { out in
                    rocsp_request(leaf.baseAddress, leaf.count, issuer.baseAddress, issuer.count, out.baseAddress, out.count)
                }
            }
        }
        guard length > 0 else { return .failure(CheckFailure(code: Code.noCertificate, message: "cannot build an OCSP request for the served certificate")) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/ocsp-request")
        headers.add(name: "Accept", value: "application/ocsp-response")
        headers.add(name: "User-Agent", value: "redis-ocsp-exporter/\(BuildInfo.version)")
        let body: ByteBuffer
        do {
            let request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .byteBuffer(ByteBuffer(bytes: buffer.prefix(length))))
            let response = try await http.wholeResponse(request, maxBodyBytes: maxBodyBytes, within: timeout)
            guard response.status == .ok else {
                let code = Int(response.status.code)
                return .failure(CheckFailure(code: "http_\(code)", message: "HTTP \(code)", httpStatus: code))
            }
            body = response.body ?? ByteBuffer()
        } catch let error as CancellationError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            var failure = ClusterClient.classify(error)
            if failure.code == CheckFailure.responseTooLarge { failure.message = "answer exceeds \(maxBodyBytes) bytes" }
            return .failure(failure)
        }
        // A signature check: off the event loops and the concurrency pool, like the handshakes.
        return (try? await StaplingProbe.threads.runIfActive { check(Array(body.readableBytesView), about: certificates) })
            ?? .failure(CheckFailure(code: CheckFailure.connectionFailed, message: "the probe thread pool is shut down"))
    }

    static func check(_ answer: [UInt8], about certificates: SeenCertificates) -> Result<Staple, CheckFailure> {
        var raw = rocsp_result()
        certificates.leaf.withUnsafeBufferPointer { leaf in
            certificates.issuer.withUnsafeBufferPointer { issuer in
                answer.withUnsafeBufferPointer { body in
                    rocsp_check_response(leaf.baseAddress, leaf.count, issuer.baseAddress, issuer.count, body.baseAddress, body.count, &raw)
                }
            }
        }
        let message = StaplingProbe.text(raw.message)
        let code: String? = switch raw.response_status {
        case -1: Code.invalidResponse
        case 0: raw.matches_leaf == 0 ? Code.wrongCertificate : raw.signature_valid == 0 ? Code.signatureInvalid : nil
        case 1: Code.malformed
        case 2: Code.internalError
        case 3: Code.tryLater
        case 5: Code.sigRequired
        case 6: Code.unauthorized
        default: Code.invalidResponse
        }
        if let code { return .failure(CheckFailure(code: code, message: message)) }
        return .success(StaplingProbe.response(raw, message: message))
    }
}
