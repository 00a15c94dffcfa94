import CStaplingProbe
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import HTTPTypes
import Hummingbird
import NIOPosix
import NIOConcurrencyHelpers
import Synchronization

/// HTTP basic authentication against the bcrypt hashes of the web configuration in force.
struct BasicAuthGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let web: WebConfigSource

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let users = await web.current().users
        guard !users.isEmpty else { return try await next(request, context) }
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
           let data = Data(base64Encoded: String(header.dropFirst(6))),
           let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            let user = String(pair[..<colon]), password = String(pair[pair.index(after: colon)...])
            switch await web.verifier.verify(user: user, password: password, users: users) {
            case .accepted: return try await next(request, context)
            case .refused: break
            case .busy:
                var response = Routes.plain(.tooManyRequests, "Too many password checks at once; retry.\n")
                response.headers[.retryAfter] = "1"
                return response
            }
        }
        var response = Routes.plain(.unauthorized, "Unauthorized.\n")
        response.headers[.wwwAuthenticate] = "Basic realm=\"redis-ocsp-exporter\""
        return response
    }
}

/// Checks passwords against bcrypt hashes without letting anyone who can reach the port take
/// the exporter's CPU: bcrypt runs on one thread of its own at the lowest scheduling priority
/// (never on an event loop or the concurrency pool, where it would stop the polling), so a
/// flood of wrong passwords slows only the password checks. Checks wait for that thread in
/// turn, without holding any other; past `maxPending` they are turned away at once.
/// Credentials that passed are remembered (by their SHA-256, never in clear), since
/// Prometheus sends the same ones on every scrape.
final class PasswordVerifier: Sendable {
    enum Outcome { case accepted, refused, busy }

    /// One thread for the process: at most one core spent on bcrypt, however many requests.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        // nice 19 for that thread alone: on Linux, setpriority with who 0 applies to the calling thread.
        pool.submit { _ in _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19) }
        return pool
    }()

    /// Checks running or waiting at once; more are answered 429.
    let maxPending: Int
    /// bcrypt's own check; tests give one that holds until released, to keep the thread busy.
    private let check: @Sendable (_ password: String, _ hash: String) -> Bool
    private let pending = Atomic(0)
    private let known = NIOLockedValueBox<Set<[UInt8]>>([])

    /// Through the system's OpenSSL, which the stapling probe links anyway.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { input in digest.withUnsafeMutableBufferPointer { rocsp_sha256(input.baseAddress, input.count, $0.baseAddress) } }
        return digest
    }

    init(maxPending: Int = 64, check: @escaping @Sendable (_ password: String, _ hash: String) -> Bool = BcryptHash.verify) {
        self.maxPending = maxPending
        self.check = check
    }

    func verify(user: String, password: String, users: [String: String]) async -> Outcome {
        let hash = users[user]
        // The hash is part of the key: a user whose hash changes must prove the new password.
        let key = Self.sha256(Array("\(user)\u{0}\(password)\u{0}\(hash ?? "")".utf8))
        if hash != nil, known.withLockedValue({ $0.contains(key) }) { return .accepted }
        guard pending.wrappingAdd(1, ordering: .relaxed).oldValue < maxPending else {
            pending.wrappingSubtract(1, ordering: .relaxed)
            return .busy
        }
        defer { pending.wrappingSubtract(1, ordering: .relaxed) }
        // An unknown user is checked against another user's hash, so a wrong name costs as much
        // as a wrong password and does not tell which names exist.
        let decoy = users.values.min() ?? ""
        let matches = (try? await Self.pool.runIfActive { [check] in check(password, hash ?? decoy) }) ?? false
        guard matches, hash != nil else { return .refused }
        known.withLockedValue { set in
            // Bounded: a flood of different valid logins cannot grow it without limit.
            if set.count >= 1024 { set.removeAll() }
            set.insert(key)
        }
        return .accepted
    }
}
