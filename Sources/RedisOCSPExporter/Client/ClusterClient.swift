import RedisSoftwareAPI
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What one request to one endpoint produced.
struct Fetch<Value: Sendable>: Sendable {
    var result: Result<Value, CheckFailure>
    /// Wall time from sending the request to the end of the body, in seconds.
    var duration: Double
}

/// Talks to one cluster's REST API through the process-wide HTTP client.
struct ClusterClient: Sendable {
    /// Bodies above this size are refused as `response_too_large` instead of being buffered.
    static let maxBodyBytes = 1 << 20

    let http: HTTPClient
    let baseURL: String
    let authorization: String?
    let tls: TLSConfiguration
    let timeout: Duration

    init(http: HTTPClient, cluster: ClusterConfig) {
        self.http = http
        self.baseURL = Self.requestBase(for: cluster)
        self.authorization = cluster.credentials?.basicAuthorization.value
        self.tls = cluster.tls
        self.timeout = cluster.timeout
    }

    /// With server_name the request goes to that name, and the shared client's DNS override
    /// (see `dnsOverrides`) sends the connection to the URL's real host.
    static func requestBase(for cluster: ClusterConfig) -> String {
        guard let serverName = cluster.serverName, var components = URLComponents(string: cluster.baseURL) else {
            return cluster.baseURL
        }
        components.host = serverName
        return components.string ?? cluster.baseURL
    }

    static func dnsOverrides(for clusters: [ClusterConfig]) -> [String: String] {
        var overrides: [String: String] = [:]
        for cluster in clusters {
            if let serverName = cluster.serverName, let host = URLComponents(string: cluster.baseURL)?.host {
                overrides[serverName] = host
            }
        }
        return overrides
    }

    /// One request, within the cluster's timeout; throws only when cancelled.
    func fetch<Value: APIObject>(method: String, path: String, as: Value.Type = Value.self) async throws -> Fetch<Value> {
        let start = ContinuousClock.now
        let result: Result<Value, CheckFailure>
        do {
            let timeout = self.timeout
            // A little past the client's own deadline, so its more precise errors win the race.
            let (status, body) = try await withDeadline(timeout + .milliseconds(250)) {
                try await send(method: method, path: path, within: timeout)
            }
            if (200..<300).contains(status) {
                do {
                    result = .success(try Value.decode(try JSONValue.parse(body.readableBytesView)))
                } catch {
                    result = .failure(CheckFailure(code: CheckFailure.invalidResponse, message: error.description))
                }
            } else {
                result = .failure(CheckFailure.fromResponse(status: status, body: body.readableBytesView))
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            if Task.isCancelled { throw CancellationError() }
            result = .failure(Self.classify(error))
        }
        return Fetch(result: result, duration: (ContinuousClock.now - start).seconds)
    }

    @Sendable
    private func send(method: String, path: String, within limit: Duration) async throws -> (Int, ByteBuffer) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "redis-ocsp-exporter/\(BuildInfo.version)")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        if method == "POST" { request.headers.add(name: "Content-Length", value: "0") }
        request.tlsConfiguration = tls
        let response = try await http.execute(request, timeout: .nanoseconds(max(0, limit.nanoseconds)))
        let body = try await response.body.collect(upTo: Self.maxBodyBytes)
        return (Int(response.status.code), body)
    }

    /// Maps transport errors to the contract's error codes.
    static func classify(_ error: any Error) -> CheckFailure {
        let text = String(describing: error)
        switch error {
        case is DeadlineExceeded:
            return CheckFailure(code: CheckFailure.timeout, message: "no complete answer within the timeout")
        case is NIOTooManyBytesError:
            return CheckFailure(code: CheckFailure.responseTooLarge, message: "response body exceeds \(maxBodyBytes) bytes")
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return CheckFailure(code: CheckFailure.timeout, message: "request timed out (\(text))")
            case .remoteConnectionClosed:
                return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed by the server")
            default:
                return CheckFailure(code: CheckFailure.connectionFailed, message: text)
            }
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            // The server hanging up mid-handshake is a dropped connection, not a certificate problem.
            if text.contains("EOF during handshake") || text.contains("uncleanShutdown") {
                return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed during the TLS handshake")
            }
            return CheckFailure(code: CheckFailure.tlsError, message: "TLS failed: \(text)")
        case let error as HTTPParserError:
            // An answer cut off mid-way is a dropped connection, not a malformed answer.
            if case .invalidEOFState = error {
                return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed before the answer was complete")
            }
            return CheckFailure(code: CheckFailure.invalidResponse, message: "not a valid HTTP response: \(text)")
        default:
            return CheckFailure(code: CheckFailure.connectionFailed, message: text)
        }
    }
}
