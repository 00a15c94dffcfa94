import HTTPTypes
import Hummingbird

/// Adds the `http_server_config.headers` of the web configuration in force to every response.
struct ResponseHeaders: RouterMiddleware {
    typealias Context = BasicRequestContext
    let web: WebConfigSource

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for field in web.config.headerFields { response.headers[field.name] = field.value }
        return response
    }
}

extension WebConfig {
    /// The configured response headers as fields; names were checked when the file was read.
    var headerFields: HTTPFields {
        HTTPFields(headers.compactMap { header in HTTPField.Name(header.name).map { HTTPField(name: $0, value: header.value) } })
    }
}
