import RedisSoftwareAPI

/// Why a check failed, classified as the metrics contract says: the `error_code` label of
/// the REST checks and of the stapling probe.
public struct CheckFailure: Error, Sendable, Equatable {
    /// The `error_code` label: the API's own code, or one of the exporter's codes below.
    var code: String
    /// Human-readable detail for logs and the landing page; never carries credentials.
    var message: String
    /// The HTTP status, where the cluster answered: a 403 tells the access level whatever code
    /// the body carries.
    var httpStatus: Int?

    init(code: String, message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    static let timeout = "timeout"
    static let connectionFailed = "connection_failed"
    static let tlsError = "tls_error"
    static let invalidResponse = "invalid_response"
    static let responseTooLarge = "response_too_large"
    static let unsupported = "ocsp_unsupported_by_capability"
    /// A redirect the client would not follow (see `ClusterClient.follow`).
    static let redirected = "redirected"

    /// Classifies an HTTP answer that is not a success: the body's `error_code` when it has a
    /// sane one, else `http_<status>`. The text is `message` (the request pages' error shape)
    /// or `description` (the OpenAPI file's).
    public static func fromResponse(status: Int, body: some Collection<UInt8>) -> CheckFailure {
        if case .object(let fields)? = try? JSONValue.parse(body), case .string(let code)? = fields["error_code"],
           isSaneCode(code)
        {
            var message = "HTTP \(status)"
            if case .string(let text)? = fields["message"] ?? fields["description"] { message += ": \(text.prefix(200))" }
            return CheckFailure(code: code, message: message, httpStatus: status)
        }
        return CheckFailure(code: "http_\(status)", message: "HTTP \(status)", httpStatus: status)
    }

    /// The API's documented codes (the REST API reference's table); any other code a server
    /// sends is kept as it is only up to `maxOtherCodes` per endpoint.
    static let documentedCodes: Set<String> = [unsupported, "invalid_schema", "no_responder_url", "invalid_ocsp_response", "task_queued_for_too_long"]
    static let maxOtherCodes = 5
    /// What the codes past that bound become.
    static let otherCode = "other_error_code"

    /// Codes from a closed set: the documented ones, the exporter's own, `http_<status>`.
    static func isKnown(_ code: String) -> Bool {
        code.hasPrefix("http_") || documentedCodes.contains(code) || code == otherCode
            || [timeout, connectionFailed, tlsError, invalidResponse, responseTooLarge, redirected].contains(code)
    }

    /// This failure with its code folded into `otherCode` when it is a code of the server's
    /// that is neither documented nor among the `maxOtherCodes` already seen (`seen`): a
    /// server minting a new code per answer would otherwise mint a series and a log line each.
    func bounded(seen: some Collection<String>) -> CheckFailure {
        guard !Self.isKnown(code), !seen.contains(code), seen.count(where: { !Self.isKnown($0) }) >= Self.maxOtherCodes else { return self }
        return CheckFailure(code: Self.otherCode, message: "\(message) (error_code \(code))", httpStatus: httpStatus)
    }

    /// error_code becomes a label value, so a server must not be able to mint unbounded or
    /// odd values through it.
    static func isSaneCode(_ code: String) -> Bool {
        (1...64).contains(code.utf8.count) && code.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
