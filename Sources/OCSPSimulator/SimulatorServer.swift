import HTTPTypes
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// Serves simulated clusters over HTTPS, each on its own loopback port as a real cluster's
/// REST API would be, all with the same generated CA.
public final class SimulatorServer: Sendable {
    public let ca: SimulatorCA
    public let clusters: [SimulatedCluster]
    /// Base URL of each cluster's REST API, by cluster name.
    public let urls: [String: String]
    private let tasks: Mutex<[Task<Void, Never>]>

    private init(ca: SimulatorCA, clusters: [SimulatedCluster], urls: [String: String], tasks: [Task<Void, Never>]) {
        self.ca = ca
        self.clusters = clusters
        self.urls = urls
        self.tasks = Mutex(tasks)
    }

    /// Starts one HTTPS server per cluster and returns once all accept connections.
    /// - Parameter ports: a port per cluster, or nil for free ports chosen by the system.
    public static func start(
        _ clusters: [SimulatedCluster], host: String = "127.0.0.1", ports: [Int]? = nil, ca: SimulatorCA? = nil,
        logger: Logger = Logger(label: "redis-ocsp-simulator")
    ) async throws -> SimulatorServer {
        let ca = try ca ?? SimulatorCA()
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(ca.serverCertificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(ca.serverKeyPEM.utf8), format: .pem))
        )
        var urls: [String: String] = [:]
        var tasks: [Task<Void, Never>] = []
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        for (index, cluster) in clusters.enumerated() {
            let (stream, continuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)
            let app = Application(
                responder: CallbackResponder { (request: Request, _: BasicRequestContext) in
                    try await respond(cluster, request)
                },
                server: try .tls(.http1(), tlsConfiguration: tls),
                configuration: .init(address: .hostname(host, port: ports?[index] ?? 0), serverName: "redis-ocsp-simulator"),
                onServerRunning: { channel in
                    continuation.yield(.success(channel.localAddress?.port ?? 0))
                    continuation.finish()
                },
                logger: serverLogger
            )
            tasks.append(Task {
                do {
                    try await app.runService(gracefulShutdownSignals: [])
                } catch {
                    continuation.yield(.failure(error))
                }
                continuation.finish()
            })
            var port: Int?
            for await result in stream {
                port = try result.get()
            }
            guard let port else {
                tasks.forEach { $0.cancel() }
                throw SimulatorError("the server for cluster \(cluster.name) stopped before it listened")
            }
            urls[cluster.name] = "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
        return SimulatorServer(ca: ca, clusters: clusters, urls: urls, tasks: tasks)
    }

    /// Stops every server and waits until they have closed.
    public func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private static func respond(_ cluster: SimulatedCluster, _ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let answer = await cluster.handle(SimRequest(
            method: request.method.rawValue, path: request.uri.path,
            authorization: request.headers[.authorization], body: Array(body.readableBytesView)
        ))
        var headers: HTTPFields = [.contentType: answer.contentType]
        for (name, value) in answer.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(
            status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }
}

public struct SimulatorError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
