import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// HTTP basic authentication against the bcrypt hashes of the web configuration.
struct BasicAuthGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let users: [String: String]
    /// Compared against for unknown users, so a wrong user name costs as much as a wrong password.
    let decoy: String
    private let verified = VerifiedCredentials()

    init(users: [String: String]) {
        self.users = users
        decoy = users.values.sorted().first ?? ""
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let data = Data(base64Encoded: String(header.dropFirst(6))),
           let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            let user = String(pair[..<colon]), password = String(pair[pair.index(after: colon)...])
            if verified.check(user: user, password: password, { BCrypt.verify(password: password, hash: users[user] ?? decoy) && users[user] != nil }) {
                return try await next(request, context)
            }
        }
        var response = Routes.plain(.unauthorized, "Unauthorized.\n")
        response.headers[.wwwAuthenticate] = "Basic realm=\"redis-ocsp-exporter\""
        return response
    }
}

/// Remembers credentials that passed bcrypt (by their SHA-256, never in clear), since bcrypt
/// is slow on purpose and Prometheus sends the same credentials on every scrape.
final class VerifiedCredentials: Sendable {
    private let known = Mutex<Set<Data>>([])

    func check(user: String, password: String, _ verify: () -> Bool) -> Bool {
        let key = Data(SHA256.hash(data: Data("\(user)\u{0}\(password)".utf8)))
        if known.withLock({ $0.contains(key) }) { return true }
        guard verify() else { return false }
        known.withLock { set in
            // Bounded: a flood of different valid logins cannot grow it without limit.
            if set.count >= 1024 { set.removeAll() }
            set.insert(key)
        }
        return true
    }
}

/// Adds the configured `http_server_config.headers` to every response.
struct ResponseHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    let headers: [(name: String, value: String)]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for header in headers {
            if let name = HTTPField.Name(header.name) { response.headers[name] = header.value }
        }
        return response
    }
}
