import CompressNIO
import HTTPTypes
import Hummingbird
import NIOCore

/// The exporter's HTTP endpoints: /metrics (or the configured path), the landing page and
/// the health checks.
enum Routes {
    /// - Parameters:
    ///   - reloader: serves POST /-/reload when given (--web.enable-lifecycle).
    ///   - web: authentication and headers from --web.config.file.
    ///   - probe: polls one cluster now, for /probe?target=NAME; nil for an unknown name.
    ///   - now: wall-clock time in Unix seconds, for the landing page's relative times.
    static func router(
        telemetryPath: String, store: SnapshotStore, rules: RuleEngine, page: MetricsPage, reloader: ConfigReloader?, web: WebConfigSource,
        probe: @escaping @Sendable (String, Duration) async -> ClusterSnapshot? = { _, _ in nil }, now: @escaping @Sendable () -> Double
    ) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        // Both read the configuration in force on every request: a reload may add users or headers.
        router.add(middleware: ResponseHeaders(web: web))
        router.add(middleware: NoRequestBody())
        router.add(middleware: BasicAuthGuard(web: web))
        let readPaths = [telemetryPath, "/probe", "/", "/api/v1/alerts", "/-/healthy", "/-/ready"]
        router.add(middleware: MethodGuard(readPaths: Set(readPaths), lifecyclePaths: ["/-/reload"]))
        router.get(RouterPath(telemetryPath)) { request, _ -> Response in
            AcceptEncoding.prefersGzip(request.headers[.acceptEncoding])
                ? MetricsResponse.response(try page.gzipped(), gzip: true) : MetricsResponse.response(page.plain(), gzip: false)
        }
        router.get("/probe") { request, _ -> Response in
            guard let target = request.uri.queryParameters.get("target"), !target.isEmpty else {
                return plain(.badRequest, "The target parameter is missing: /probe?target=<cluster name>.\n")
            }
            guard let snapshot = await probe(target, probeLimit(request.headers[scrapeTimeoutHeader])) else {
                return plain(.badRequest, "Unknown target \"\(target)\": not a configured cluster of this exporter.\n")
            }
            let body = MetricsPage.body(of: snapshot)
            return AcceptEncoding.prefersGzip(request.headers[.acceptEncoding])
                ? MetricsResponse.response(MetricsBody(parts: [try body.gzipped()]), gzip: true) : MetricsResponse.response(body, gzip: false)
        }
        router.get("/") { _, _ -> Response in
            let html = LandingPage.render(store.read().entries, rules: rules, telemetryPath: telemetryPath, now: now())
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/api/v1/alerts") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: AlertsAPI.render(store.read().entries.flatMap { rules.alerts($0.snapshot.name) }))))
        }
        router.get("/-/healthy") { _, _ in plain(.ok, "Healthy.\n") }
        router.post("/-/reload") { _, _ in
            guard let reloader else {
                return plain(.forbidden, "Lifecycle API is not enabled (--web.enable-lifecycle).\n")
            }
            switch await reloader.reload() {
            case .success: return plain(.ok, "Reloaded.\n")
            case .failure(let error): return plain(.internalServerError, "Reload failed; the previous configuration stays in force:\n\(error)\n")
            }
        }
        router.get("/-/ready") { _, _ in
            guard store.firstRoundDone else { return plain(.serviceUnavailable, "Not ready: the first poll round is not done.\n") }
            let evaluated = rules.evaluatedVersions()
            guard store.read().entries.allSatisfy({ evaluated[$0.snapshot.name] != nil }) else {
                return plain(.serviceUnavailable, "Not ready: the rules have not judged the first round yet.\n")
            }
            return plain(.ok, "Ready.\n")
        }
        return router
    }

    static let scrapeTimeoutHeader = HTTPField.Name("X-Prometheus-Scrape-Timeout-Seconds")!

    /// How long a probe may take: Prometheus's scrape timeout less half a second for the
    /// answer to travel back (as the blackbox exporter does), else 10 s.
    static func probeLimit(_ header: String?) -> Duration {
        guard let seconds = header.flatMap(Double.init), seconds.isFinite, seconds > 0 else { return .seconds(10) }
        return .milliseconds(Int64(max(0.1, min(seconds - 0.5, 300)) * 1000))
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Answers 405 for methods a path does not serve, where the router would say 404.
struct MethodGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let readPaths: Set<String>
    let lifecyclePaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let allowed: [HTTPRequest.Method] = readPaths.contains(path) ? [.get, .head] : lifecyclePaths.contains(path) ? [.post] : []
        guard allowed.isEmpty || allowed.contains(request.method) else {
            var response = Routes.plain(.methodNotAllowed, "Method \(request.method.rawValue) is not allowed on \(path).\n")
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return response
        }
        return try await next(request, context)
    }
}
