import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
@testable import RedisOCSPExporter
import Testing

/// The routes in process, through HummingbirdTesting's router client: no socket, no poll.
/// The cluster is configured but never polled, so every answer is the one before a first round.
@Suite(.tags(.unit))
struct RouteTests {
    static func withRoutes(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let config = try ConfigLoader.load(yaml: "clusters: [{name: a, url: \"https://127.0.0.1:1\"}]", source: "routes.yml")
        var logger = Logger(label: "routes")
        logger.logLevel = .critical
        let exporter = try ExporterApp(config: config, listen: ListenAddress(host: "127.0.0.1", port: 0), enableLifecycle: false,
                                       web: try WebConfigSource(), logger: logger)
        try await Application(responder: exporter.responder).test(.router, body)
    }

    @Test func methodsOtherThanGetAndHeadAreRefused() async throws {
        try await Self.withRoutes { client in
            for path in ["/metrics", "/", "/api/v1/alerts", "/-/ready", "/-/healthy", "/probe"] {
                try await client.execute(uri: path, method: .post) { response in
                    #expect(response.status == .methodNotAllowed, "POST \(path)")
                    #expect(response.headers[.allow] == "GET, HEAD")
                }
                try await client.execute(uri: path, method: .delete) { #expect($0.status == .methodNotAllowed) }
                let get = try await client.execute(uri: path, method: .get) { $0.status }
                try await client.execute(uri: path, method: .head) { response in
                    #expect(response.status == get, "HEAD \(path)")
                    #expect(response.body.readableBytes == 0)
                }
            }
            try await client.execute(uri: "/-/reload", method: .get) { #expect($0.status == .methodNotAllowed) }
            // Without --web.enable-lifecycle, reload is refused, not performed.
            try await client.execute(uri: "/-/reload", method: .post) { #expect($0.status == .forbidden) }
        }
    }

    @Test func healthReadinessAndUnknownPaths() async throws {
        try await Self.withRoutes { client in
            try await client.execute(uri: "/-/healthy", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "Healthy.\n")
            }
            try await client.execute(uri: "/-/ready", method: .get) { #expect($0.status == .serviceUnavailable, "ready before a first round") }
            try await client.execute(uri: "/nope", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func probeNeedsAKnownTarget() async throws {
        try await Self.withRoutes { client in
            try await client.execute(uri: "/probe", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("/probe?target=<cluster name>"))
            }
            try await client.execute(uri: "/probe?target=nope", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("Unknown target \"nope\""))
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "an answer that echoes its request is not sniffed")
            }
            try await client.execute(uri: "/nope", method: .get) { #expect($0.headers[.xContentTypeOptions] == "nosniff") }
        }
    }

    @Test func alertsAndTheLandingPageBeforeAFirstRound() async throws {
        try await Self.withRoutes { client in
            try await client.execute(uri: "/api/v1/alerts", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(document["status"] as? String == "success")
                #expect((document["data"] as? [String: Any])?["alerts"] as? [Any] != nil)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                #expect(page.contains("<h1>redis-ocsp-exporter</h1>"))
                #expect(page.contains("data-cluster=\"a\""))
                #expect(page.contains("href=\"/metrics\""))
                #expect(!page.contains("<script"))
            }
        }
    }

    @Test func metricsAreServedPlainOrGzipped() async throws {
        try await Self.withRoutes { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == Exposition.contentType)
                #expect(response.headers[.contentEncoding] == nil)
                #expect(String(buffer: response.body).contains("# TYPE redis_ocsp_exporter_build_info gauge"))
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.acceptEncoding: "gzip"]) { response in
                #expect(response.headers[.contentEncoding] == "gzip")
                #expect(response.headers[.vary] == "Accept-Encoding")
            }
        }
    }

    /// No endpoint takes a body; one announced is refused before anything else looks at it.
    @Test func aRequestWithABodyIsRefused() async throws {
        try await Self.withRoutes { client in
            for (method, path) in [(HTTPRequest.Method.get, "/-/healthy"), (.get, "/metrics"), (.post, "/-/reload")] {
                try await client.execute(uri: path, method: method, body: ByteBuffer(string: "x")) { response in
                    #expect(response.status == .contentTooLarge, "\(method) \(path)")
                    #expect(response.headers[.connection] == "close")
                }
            }
        }
    }
}
