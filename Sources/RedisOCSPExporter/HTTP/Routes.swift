import Hummingbird
import NIOCore

/// The exporter's HTTP endpoints: /metrics (or the configured path), the landing page and
/// the health checks.
public enum Routes {
    public static func router(telemetryPath: String, store: SnapshotStore, page: MetricsPage) -> Router<BasicRequestContext> {
        let router = Router()
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
