import Hummingbird
import NIOCore

/// The exporter's HTTP endpoints: /metrics (or the configured path), the landing page and
/// the health checks.
public enum Routes {
    /// - Parameters:
    ///   - reloader: serves POST /-/reload when given (--web.enable-lifecycle).
    ///   - web: authentication and headers from --web.config.file.
    public static func router(
        telemetryPath: String, store: SnapshotStore, page: MetricsPage, reloader: ConfigReloader?, web: WebConfig = .plain
    ) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        if !web.headers.isEmpty { router.add(middleware: ResponseHeaders(headers: web.headers)) }
        if !web.users.isEmpty { router.add(middleware: BasicAuthGuard(users: web.users)) }
        let readPaths = [telemetryPath, "/", "/api/v1/alerts", "/-/healthy", "/-/ready"]
        router.add(middleware: MethodGuard(readPaths: Set(readPaths), lifecyclePaths: ["/-/reload"]))
        router.get(RouterPath(telemetryPath)) { request, _ -> Response in
            if acceptsGzip(request.headers[.acceptEncoding]) {
                let body = try page.gzippedBody()
                return Response(
                    status: .ok,
                    headers: [.contentType: Exposition.contentType, .contentEncoding: "gzip", .vary: "Accept-Encoding"],
                    body: .init(byteBuffer: body)
                )
            }
            return Response(
                status: .ok, headers: [.contentType: Exposition.contentType, .vary: "Accept-Encoding"],
                body: .init(byteBuffer: ByteBuffer(bytes: page.body()))
            )
        }
        router.get("/") { _, _ -> Response in
            let html = LandingPage.render(store.read().entries, telemetryPath: telemetryPath)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        router.get("/api/v1/alerts") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: AlertsAPI.render(store.read().entries.flatMap(\.alerts)))))
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
            store.firstRoundDone ? plain(.ok, "Ready.\n") : plain(.serviceUnavailable, "Not ready: the first poll round is not done.\n")
        }
        return router
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// True when Accept-Encoding lists gzip (or *) without q=0.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "*" else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if q > 0 { return true }
        }
        return false
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
