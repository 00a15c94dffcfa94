import HTTPTypes
import Hummingbird

/// Adds the `http_server_config.headers` of the web configuration in force to every response,
/// error answers (404, 405) included.
struct ResponseHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    let web: WebConfigSource

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        for field in web.config.headerFields { response.headers[field.name] = field.value }
        return response
    }
}
