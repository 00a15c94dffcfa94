import RedisSoftwareAPI
import AsyncHTTPClient
import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What one request to one endpoint produced.
struct Fetch<Value: Sendable>: Sendable {
    var result: Result<Value, CheckFailure>
    /// Wall time from sending the request to the end of the body, in seconds.
    var duration: Double
    /// The `host:port` that gave the answer: the configured one, or a redirect's target.
    var answeredBy: String? = nil
}

/// Talks to one cluster's REST API over its own connections (`RESTConnections`).
struct ClusterClient: Sendable {
    /// Bodies above this size are refused as `response_too_large` instead of being buffered.
    static let maxBodyBytes = 1 << 20
    /// Redirects followed per request at most.
    static let maxRedirects = 3

    let connections: RESTConnections
    /// The configured URL's host and port; with server_name, the name the certificate must carry.
    let target: RESTTarget
    /// The configured URL's path, before each endpoint's.
    let basePath: String
    /// The name the cluster's certificate must carry: server_name, else the URL's host.
    let verifiedName: String
    /// The Host header of the configured URL.
    let host: String
    /// The headers of every request: Host (a redirect's replaces it), Accept, User-Agent and the credentials.
    let headers: HTTPHeaders
    let tls: TLSConfiguration
    let timeout: Duration

    /// `idleTimeout`: how long a connection stays open after an answer for the next request.
    init(cluster: ClusterConfig, idleTimeout: TimeAmount) {
        let components = URLComponents(string: cluster.baseURL)
        let host = components?.host ?? ""
        verifiedName = cluster.serverName ?? host
        target = RESTTarget(host: host, port: components.map(Self.port) ?? 443, https: components?.scheme?.lowercased() != "http",
                            serverName: Self.indication(verifiedName))
        basePath = components?.percentEncodedPath ?? ""
        self.host = Self.hostHeader(verifiedName, target)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: self.host)
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "redis-ocsp-exporter/\(BuildInfo.version)")
        if let authorization = cluster.credentials?.basicAuthorization.value { headers.add(name: "Authorization", value: authorization) }
        self.headers = headers
        tls = cluster.tls
        timeout = cluster.timeout
        connections = RESTConnections(tls: cluster.tls, idleTimeout: idleTimeout, maxBodyBytes: Self.maxBodyBytes)
    }

    /// The configured `host:port`.
    var address: String { target.address }

    private static func port(_ url: URLComponents) -> Int {
        url.port ?? (url.scheme?.lowercased() == "http" ? 80 : 443)
    }

    /// The name sent as SNI: none for an IP address, whose certificate must name the address.
    private static func indication(_ name: String) -> String? {
        (try? SocketAddress(ipAddress: name, port: 0)) == nil ? name : nil
    }

    /// Where one request goes: the server connected to, what is asked of it, and how it is named.
    private struct Hop: Sendable {
        var target: RESTTarget
        /// The request target: path and query.
        var uri: String
        var host: String
        /// The Location that led here, escaped for display; nil for the configured URL.
        var location: String?
    }

    /// The Host header for `name` on `target`'s port.
    private static func hostHeader(_ name: String, _ target: RESTTarget) -> String {
        let host = name.contains(":") ? "[\(name)]" : name
        return target.port == (target.https ? 443 : 80) ? host : "\(host):\(target.port)"
    }

    /// One request, within the cluster's timeout for the whole of it (redirects included);
    /// throws only when cancelled.
    func fetch<Value: APIObject>(method: String, path: String, as: Value.Type = Value.self) async throws -> Fetch<Value> {
        let start = ContinuousClock.now
        let deadline = NIODeadline.now() + .nanoseconds(max(0, timeout.nanoseconds))
        var hop = Hop(target: target, uri: basePath + path, host: host)
        var result: Result<Value, CheckFailure>?
        var answeredBy: String?
        for hops in 0... {
            do {
                let answer = try await send(method: HTTPMethod(rawValue: method), hop: hop, deadline: deadline)
                answeredBy = hop.target.address
                if (300..<400).contains(answer.status), let location = answer.location {
                    switch follow(location, from: hop, method: method, status: answer.status, hops: hops) {
                    case .success(let next): hop = next; continue
                    case .failure(let failure): result = .failure(failure)
                    }
                } else if (200..<300).contains(answer.status) {
                    do {
                        result = .success(try Value.decode(try JSONValue.parse(answer.body.readableBytesView)))
                    } catch {
                        result = .failure(CheckFailure(code: CheckFailure.invalidResponse, message: error.description))
                    }
                } else {
                    result = .failure(CheckFailure.fromResponse(status: answer.status, body: answer.body.readableBytesView))
                }
            } catch let error as CancellationError {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                let failure = Self.classify(error)
                // The target of a redirect that cannot be reached or does not prove it is the
                // cluster: say that a redirect is behind it, or the cause stays hidden.
                result = .failure(hop.location.map { Self.refused($0, because: "\(failure.code): \(failure.message)") } ?? failure)
            }
            break
        }
        return Fetch(result: result!, duration: (ContinuousClock.now - start).seconds, answeredBy: answeredBy)
    }

    /// The next hop for a redirect to `location`, or why it is not followed: only to HTTPS,
    /// only with the certificate verified (for the cluster's name, by the cluster's CA), only
    /// where the method stays the same, at most `maxRedirects` times.
    private func follow(_ location: String, from hop: Hop, method: String, status: Int, hops: Int) -> Result<Hop, CheckFailure> {
        let shown = String(location.prefix(200)).escapingControlCharacters
        guard hops < Self.maxRedirects else { return .failure(Self.refused(shown, because: "more than \(Self.maxRedirects) redirects")) }
        guard method == "GET" || status == 307 || status == 308 else {
            return .failure(Self.refused(shown, because: "HTTP \(status) would turn the \(method) into a GET"))
        }
        guard let target = URLComponents(string: location) else { return .failure(Self.refused(shown, because: "not a URL")) }
        let uri = target.percentEncodedPath + (target.percentEncodedQuery.map { "?\($0)" } ?? "")
        // A path on the same server: same connection, same checks.
        guard let host = target.host, !host.isEmpty else {
            guard location.hasPrefix("/"), !location.hasPrefix("//") else { return .failure(Self.refused(shown, because: "not a URL")) }
            return .success(Hop(target: hop.target, uri: uri, host: hop.host, location: shown))
        }
        guard target.scheme?.lowercased() == "https" else { return .failure(Self.refused(shown, because: "not HTTPS")) }
        guard tls.certificateVerification == .fullVerification else {
            return .failure(Self.refused(shown, because: "tls.insecure_skip_verify is set, so the target's certificate could not be verified"))
        }
        // The target's address, and the cluster's name for its certificate: credentials only
        // go to a server that proves it is the cluster.
        let next = RESTTarget(host: host, port: Self.port(target), https: true, serverName: Self.indication(verifiedName))
        return .success(Hop(target: next, uri: uri.isEmpty ? "/" : uri, host: Self.hostHeader(verifiedName, next), location: shown))
    }

    private static func refused(_ target: String, because reason: String) -> CheckFailure {
        CheckFailure(code: CheckFailure.redirected, message: "redirected to \(target) and not followed: \(reason); "
            + "point url at the master node or a load balancer, or enable the cluster's handle_redirects")
    }

    private func send(method: HTTPMethod, hop: Hop, deadline: NIODeadline) async throws -> RESTAnswer {
        var headers = headers
        if hop.host != host { headers.replaceOrAdd(name: "Host", value: hop.host) }
        if method == .POST { headers.add(name: "Content-Length", value: "0") }
        return try await connections.send(HTTPRequestHead(version: .http1_1, method: method, uri: hop.uri, headers: headers),
                                          to: hop.target, deadline: deadline)
    }

    /// The system's words for a socket error, as the stapling probe reports them: NIO's own text
    /// names the call that saw it ("connection reset (error set)" for a refused connect).
    static func systemMessage(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }

    private static func cannotConnect(_ address: String, _ cause: String) -> CheckFailure {
        CheckFailure(code: CheckFailure.connectionFailed, message: "cannot connect to \(address): \(cause)")
    }

    /// Maps transport errors to the contract's error codes.
    static func classify(_ error: any Error) -> CheckFailure {
        let text = String(describing: error)
        switch error {
        case is DeadlineExceeded:
            return CheckFailure(code: CheckFailure.timeout, message: "no complete answer within the timeout")
        case is NIOTooManyBytesError, is ResponseAccumulator.ResponseTooBigError, RESTConnectionError.tooLarge:
            return CheckFailure(code: CheckFailure.responseTooLarge, message: "response body exceeds \(maxBodyBytes) bytes")
        case RESTConnectionError.closed:
            return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed by the server")
        case ChannelError.connectTimeout:
            return CheckFailure(code: CheckFailure.timeout, message: "no connection within the timeout")
        case let error as NIOConnectionError:
            // The error of the last address tried; without one, the name did not resolve.
            let cause = error.connectionErrors.last.map { systemMessage($0.error) } ?? (error.dnsAError ?? error.dnsAAAAError).map { "\($0)" } ?? text
            return cannotConnect(RESTTarget(host: error.host, port: error.port, https: false).address, cause)
        case RESTConnectionError.cannotConnect(let address, let cause):
            return cannotConnect(address, cause)
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
            // The server hanging up is a dropped connection, not a certificate problem.
            if text.contains("EOF during handshake") {
                return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed during the TLS handshake")
            }
            if case NIOSSLError.uncleanShutdown = error {
                return CheckFailure(code: CheckFailure.connectionFailed, message: "connection closed by the server without TLS close_notify")
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
