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

/// Talks to one cluster's REST API through the process-wide HTTP client.
struct ClusterClient: Sendable {
    /// Bodies above this size are refused as `response_too_large` instead of being buffered.
    static let maxBodyBytes = 1 << 20
    /// Redirects followed per request at most.
    static let maxRedirects = 3

    let http: HTTPClient
    /// Where redirects to another address are followed; nil follows none.
    let redirects: RedirectClients?
    let baseURL: String
    /// The name the cluster's certificate must carry: server_name, else the URL's host.
    let verifiedName: String
    /// The configured `host:port`.
    let address: String
    let authorization: String?
    let tls: TLSConfiguration
    let timeout: Duration

    init(http: HTTPClient, redirects: RedirectClients? = nil, cluster: ClusterConfig) {
        self.http = http
        self.redirects = redirects
        self.baseURL = Self.requestBase(for: cluster)
        let components = URLComponents(string: cluster.baseURL)
        self.verifiedName = cluster.serverName ?? components?.host ?? ""
        self.address = components.map(Self.address) ?? cluster.baseURL
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

    private static func address(_ url: URLComponents) -> String {
        let host = url.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? ""
        return "\(host):\(url.port ?? (url.scheme?.lowercased() == "http" ? 80 : 443))"
    }

    /// Where one request goes: the client that connects, the URL it asks for, the address it reaches.
    private struct Hop: Sendable {
        var http: HTTPClient
        var url: String
        var address: String
        /// The Location that led here, escaped for display; nil for the configured URL.
        var location: String?
    }

    private struct Answer: Sendable {
        var status: Int
        var location: String?
        var body: ByteBuffer
    }

    /// One request, within the cluster's timeout for the whole of it (redirects included);
    /// throws only when cancelled.
    func fetch<Value: APIObject>(method: String, path: String, as: Value.Type = Value.self) async throws -> Fetch<Value> {
        let start = ContinuousClock.now
        let end = start + timeout
        var hop = Hop(http: http, url: baseURL + path, address: address)
        var result: Result<Value, CheckFailure>?
        var answeredBy: String?
        for hops in 0... {
            do {
                let answer = try await send(method: method, hop: hop, within: end - .now)
                answeredBy = hop.address
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
        guard let current = URLComponents(string: hop.url), let target = URLComponents(string: location) else {
            return .failure(Self.refused(shown, because: "not a URL"))
        }
        // A path on the same server: same connection, same checks.
        guard let host = target.host, !host.isEmpty else {
            guard location.hasPrefix("/"), !location.hasPrefix("//") else { return .failure(Self.refused(shown, because: "not a URL")) }
            var next = current
            next.percentEncodedPath = target.percentEncodedPath
            next.percentEncodedQuery = target.percentEncodedQuery
            return .success(Hop(http: hop.http, url: next.string ?? hop.url, address: hop.address, location: shown))
        }
        let address = Self.address(target)
        guard target.scheme?.lowercased() == "https" else { return .failure(Self.refused(shown, because: "not HTTPS")) }
        guard tls.certificateVerification == .fullVerification else {
            return .failure(Self.refused(shown, because: "tls.insecure_skip_verify is set, so the target's certificate could not be verified"))
        }
        guard let client = redirects?.client(name: verifiedName, host: host) else {
            return .failure(Self.refused(shown, because: "no more redirect targets are followed"))
        }
        var next = target
        next.host = verifiedName
        return .success(Hop(http: client, url: next.string ?? location, address: address, location: shown))
    }

    private static func refused(_ target: String, because reason: String) -> CheckFailure {
        CheckFailure(code: CheckFailure.redirected, message: "redirected to \(target) and not followed: \(reason); "
            + "point url at the master node or a load balancer, or enable the cluster's handle_redirects")
    }

    private func send(method: String, hop: Hop, within limit: Duration) async throws -> Answer {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "redis-ocsp-exporter/\(BuildInfo.version)")
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        if method == "POST" { headers.add(name: "Content-Length", value: "0") }
        let request = try HTTPClient.Request(url: hop.url, method: HTTPMethod(rawValue: method), headers: headers, tlsConfiguration: tls)
        let response = try await hop.http.wholeResponse(request, maxBodyBytes: Self.maxBodyBytes, within: limit)
        return Answer(status: Int(response.status.code), location: response.headers.first(name: "Location"), body: response.body ?? ByteBuffer())
    }

    /// Maps transport errors to the contract's error codes.
    static func classify(_ error: any Error) -> CheckFailure {
        let text = String(describing: error)
        switch error {
        case is DeadlineExceeded:
            return CheckFailure(code: CheckFailure.timeout, message: "no complete answer within the timeout")
        case is NIOTooManyBytesError, is ResponseAccumulator.ResponseTooBigError:
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
