import FoundationEssentials
import HTTPTypes
import Hummingbird
import NIOCore
import RedisSoftwareAPI
import NIOConcurrencyHelpers

/// The one place a /metrics answer's head is made, for the router and for the fast path.
enum MetricsResponse {
    static func fields(bodyLength: Int, gzip: Bool) -> HTTPFields {
        var fields: HTTPFields = [.contentType: Exposition.contentType, .vary: "Accept-Encoding", .contentLength: String(bodyLength)]
        if gzip { fields[.contentEncoding] = "gzip" }
        return fields
    }

    static func response(_ body: MetricsBody, gzip: Bool) -> Response {
        Response(status: .ok, headers: fields(bodyLength: body.length, gzip: gzip), body: .init(contentsOf: body.parts))
    }

    /// The fields Hummingbird's application adds to every routed answer, for answers made
    /// without it: the Date (made at most once a second) and the Server name.
    final class ServerFields: Sendable {
        let serverName: String
        private let date = NIOLockedValueBox<(second: Int64, text: String)>((0, ""))

        init(serverName: String) {
            self.serverName = serverName
        }

        func add(to fields: inout HTTPFields) {
            let second = Int64(Date().timeIntervalSince1970)
            fields[.date] = date.withLockedValue { cached in
                if cached.second != second { cached = (second, HTTPDate.format(second)) }
                return cached.text
            }
            fields[.server] = serverName
        }
    }
}
