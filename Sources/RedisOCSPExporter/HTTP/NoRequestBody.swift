import HTTPTypes
import Hummingbird

/// No endpoint takes a body: a request that announces one is answered 413 before anything
/// else looks at it (bcrypt included), and its connection is closed.
struct NoRequestBody: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let length = request.headers[.contentLength].flatMap { Int($0) } ?? 0
        guard length > 0 || request.headers[.transferEncoding] != nil else { return try await next(request, context) }
        var response = Routes.plain(.contentTooLarge, "No endpoint of this exporter takes a request body.\n")
        response.headers[.connection] = "close"
        return response
    }
}
