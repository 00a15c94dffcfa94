import HummingbirdBcrypt

/// bcrypt password hashes as `basic_auth_users` of the Prometheus web configuration holds
/// them (`htpasswd -nBC 10 user` writes `$2y$`). Verification is HummingbirdBcrypt's (OpenBSD's
/// code), which knows `$2a$` and `$2b$` only; `$2y$` is the same algorithm under PHP's name.
enum BcryptHash {
    private static let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Costs htpasswd can write; a higher one would hold a verification thread for hours.
    static let costs = 4...17

    /// Whether `hash` is `$2a$`, `$2b$` or `$2y$`, a cost in `costs` and 53 characters of salt and digest.
    static func isWellFormed(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0].isEmpty && ["2a", "2b", "2y"].contains(parts[1])
            && parts[2].utf8.count == 2 && Int(parts[2]).map(costs.contains) == true
            && parts[3].utf8.count == 53 && parts[3].utf8.allSatisfy(alphabet.contains)
    }

    /// Whether `password` matches `hash`; false for a hash that is not well formed. Slow on
    /// purpose: call it on a thread of its own, never on an event loop or the concurrency pool.
    static func verify(password: String, hash: String) -> Bool {
        guard isWellFormed(hash) else { return false }
        return Bcrypt.verify(password, hash: hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash)
    }
}
