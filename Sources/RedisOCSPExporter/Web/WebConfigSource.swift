#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOConcurrencyHelpers

/// The web configuration in force. As the Prometheus exporter-toolkit does, the file (and the
/// certificate, key and CA files it names) is looked at again for new connections and
/// requests, at most once a second, so a renewed certificate or a changed user list takes
/// effect without a restart. A replacement that does not load keeps the last good
/// configuration, is logged once and is counted; it never falls back to plain HTTP or to no
/// authentication.
public final class WebConfigSource: OwnMetricsSource {
    /// What the files looked like when last loaded: a change of any of them triggers a load.
    private struct Fingerprint: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, modified: Int64, modifiedNanoseconds: Int64
    }

    private struct State {
        var config: WebConfig
        var sslContext: NIOSSLContext?
        var fingerprints: [Fingerprint?]
        var checkedAt: ContinuousClock.Instant
        var checking = false
        var failures = 0
        /// Successful loads after the first: with `failures`, what moves the metrics' version.
        var loads = 0
        var lastError: String?
    }

    /// The file, or nil for a configuration given in code (tests, no --web.config.file).
    let path: String?
    private let state: NIOLockedValueBox<State>
    private let logger: Logger
    /// Checks the passwords of `basic_auth_users`, remembering the ones that passed.
    let verifier: PasswordVerifier
    /// How long after one look at the files the next may be; tests look on every request.
    let recheckInterval: Duration

    /// Plain HTTP without authentication: no --web.config.file.
    public convenience init() throws {
        try self.init(fixed: .plain)
    }

    /// A fixed configuration that is never re-read.
    init(fixed config: WebConfig) throws {
        path = nil
        logger = Logger(label: "web-config")
        verifier = PasswordVerifier()
        recheckInterval = .zero  // never used: there is no file
        state = NIOLockedValueBox(State(config: config, sslContext: try config.tls.map(NIOSSLContext.init), fingerprints: [], checkedAt: .now))
    }

    /// Loads `path`; throws the ConfigError of an invalid file, so the exporter does not start.
    public convenience init(file path: String, logger: Logger) throws {
        try self.init(file: path, logger: logger, verifier: PasswordVerifier())
    }

    init(file path: String, logger: Logger, verifier: PasswordVerifier = PasswordVerifier(), recheckInterval: Duration = .seconds(1)) throws {
        self.path = path
        self.logger = logger
        self.verifier = verifier
        self.recheckInterval = recheckInterval
        let (config, context, fingerprints) = try Self.load(path, tls: nil)
        state = NIOLockedValueBox(State(config: config, sslContext: context, fingerprints: fingerprints, checkedAt: .now))
    }

    var config: WebConfig { state.withLockedValue { $0.config } }
    public var servesTLS: Bool { state.withLockedValue { $0.sslContext != nil } }

    /// The TLS context for a new connection, after looking at the files when due. The look
    /// runs on a thread pool, never on the event loop.
    func sslContext(on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        guard dueForCheck() else { return eventLoop.makeSucceededFuture(state.withLockedValue { $0.sslContext! }) }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            self.check()
            return self.state.withLockedValue { $0.sslContext! }
        }
    }

    /// The configuration for a request, after looking at the files when due.
    func current() async -> WebConfig {
        if dueForCheck() { _ = try? await NIOThreadPool.singleton.runIfActive { self.check() } }
        return config
    }

    /// The configuration in force, or nil when the files are due for a look (not claiming it):
    /// the fast path then leaves the request to the router, which looks.
    var configUnlessDue: WebConfig? {
        state.withLockedValue { isDue($0) ? nil : $0.config }
    }

    private func isDue(_ s: State) -> Bool {
        path != nil && !s.checking && ContinuousClock.now - s.checkedAt >= recheckInterval
    }

    /// Claims the next look at the files when one is due and none is running.
    private func dueForCheck() -> Bool {
        return state.withLockedValue { s in
            guard isDue(s) else { return false }
            s.checking = true
            return true
        }
    }

    /// Loads the files again if any changed since the last load. Blocking: thread pool only.
    func check() {
        guard let path else { return }
        let (fingerprints, tls) = state.withLockedValue { ($0.fingerprints, $0.config.tls != nil) }
        let seen = ([path] + config.files).map(Self.fingerprint)
        defer { state.withLockedValue { $0.checkedAt = .now; $0.checking = false } }
        guard seen != fingerprints else { return }
        // Remembered even if the load fails: broken files are tried again when they change, not every second.
        state.withLockedValue { $0.fingerprints = seen }
        do {
            let (config, context, fingerprints) = try Self.load(path, tls: tls)
            state.withLockedValue { s in
                (s.config, s.sslContext, s.fingerprints, s.lastError) = (config, context, fingerprints, nil)
                s.loads += 1
            }
            logger.info("web configuration reloaded", metadata: ["file": "\(path)", "tls": "\(context != nil)", "users": "\(config.users.count)"])
        } catch {
            let message = "\(error)"
            let first = state.withLockedValue { s in
                s.failures += 1
                defer { s.lastError = message }
                return s.lastError != message
            }
            if first {
                logger.error("web configuration reload failed; the last good one stays in force", metadata: ["error": "\(message)"])
            }
        }
    }

    /// Reads and validates the file. `tls` is whether the running server speaks TLS: the
    /// listener is built at start, so a file that switches TLS on or off needs a restart.
    private static func load(_ path: String, tls: Bool?) throws -> (WebConfig, NIOSSLContext?, [Fingerprint?]) {
        // The file's fingerprint is taken before it is read: replaced meanwhile, it is loaded again next time.
        let before = [path].map(fingerprint)
        let config = try WebConfig.load(file: path)
        if let tls, tls != (config.tls != nil) {
            throw ConfigError(source: path, issues: [.init(field: "tls_server_config", message: tls
                ? "removing TLS takes a restart; still serving TLS with the last good configuration"
                : "adding TLS takes a restart; still serving plain HTTP")])
        }
        let context: NIOSSLContext?
        do {
            context = try config.tls.map(NIOSSLContext.init)
        } catch {
            throw ConfigError(source: path, issues: [.init(field: "tls_server_config", message: "cert_file and key_file do not make a TLS context: \(error)")])
        }
        return (config, context, before + config.files.map(fingerprint))
    }

    private static func fingerprint(_ path: String) -> Fingerprint? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Fingerprint(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                           modified: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec))
    }

    /// Moves with every load, failed or not; not with the looks that find nothing changed.
    var metricsVersion: UInt64 { state.withLockedValue { UInt64($0.failures + $0.loads) } }

    func renderMetrics() -> String {
        guard path != nil else { return "" }
        let (failures, failing) = state.withLockedValue { ($0.failures, $0.lastError != nil) }
        var out = FamilyWriter()
        out.family("redis_ocsp_exporter_web_config_reload_failures_total", .counter,
                   "Times a changed web configuration (or a file it names) could not be loaded; the last good one stayed in force.",
                   Double(failures))
        out.family("redis_ocsp_exporter_web_config_last_reload_successful", .gauge, "Whether the last load of the web configuration succeeded.",
                   failing ? 0 : 1)
        return out.text
    }
}
