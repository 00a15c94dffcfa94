import Hummingbird
import Logging
import NIOCore

/// The OCSP responder of the demo's stapling endpoints, over plain HTTP as most responders
/// are: a POSTed request about an endpoint's certificate gets what that endpoint staples,
/// signed now; any other gets responseStatus unauthorized, as a responder answers for a
/// certificate it does not serve.
public final class SimulatedResponder: Sendable {
    public let url: String
    private let task: Task<Void, any Error>

    /// OCSPResponse { responseStatus unauthorized (6) }, DER.
    static let unauthorized: [UInt8] = [0x30, 0x03, 0x0A, 0x01, 0x06]

    private init(url: String, task: Task<Void, any Error>) {
        self.url = url
        self.task = task
    }

    public static func start(answering endpoints: [StaplingEndpoint], logger: Logger = Logger(label: "redis-ocsp-simulator")) async throws -> SimulatedResponder {
        let router = Router()
        router.post("/") { request, _ -> Response in
            let body = Array(try await request.body.collect(upTo: 64 * 1024).readableBytesView)
            let answer = endpoints.lazy.compactMap { $0.answer(body) }.first ?? unauthorized
            return Response(status: .ok, headers: [.contentType: "application/ocsp-response"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "redis-ocsp-simulator"),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        let task = Task {
            defer { continuation.finish() }
            try await app.runService()
        }
        for await port in ports { return SimulatedResponder(url: "http://127.0.0.1:\(port)", task: task) }
        try await task.value
        throw SimulatorError("the simulated OCSP responder stopped before it listened")
    }

    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
