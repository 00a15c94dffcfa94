import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// Serves simulated clusters over HTTPS, each on its own loopback port as a real cluster's
/// REST API would be, all with the same generated CA.
public final class SimulatorServer: Sendable {
    public let ca: SimulatorCA
    public let clusters: [SimulatedCluster]
    /// Base URL of each cluster's REST API, by cluster name.
    public let urls: [String: String]
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(ca: SimulatorCA, clusters: [SimulatedCluster], urls: [String: String], group: ServiceGroup, task: Task<Void, any Error>) {
        self.ca = ca
        self.clusters = clusters
        self.urls = urls
        self.group = group
        self.task = task
    }

    /// Starts one HTTPS server per cluster and returns once all accept connections.
    /// - Parameters:
    ///   - ports: a port per cluster, or nil for free ports chosen by the system.
    ///   - plainHTTP: serve HTTP instead, as a cluster behind a TLS-terminating proxy is seen.
    public static func start(
        _ clusters: [SimulatedCluster], host: String = "127.0.0.1", ports: [Int]? = nil, ca: SimulatorCA? = nil,
        plainHTTP: Bool = false, logger: Logger = Logger(label: "redis-ocsp-simulator")
    ) async throws -> SimulatorServer {
        let ca = try ca ?? SimulatorCA()
        for cluster in clusters where cluster.proxyCertificatePEM == nil { cluster.proxyCertificatePEM = ca.serverCertificatePEM }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(ca.serverCertificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(ca.serverKeyPEM.utf8), format: .pem))
        )
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let (listening, continuation) = AsyncStream.makeStream(of: (index: Int, port: Int).self)
        var apps: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for (index, cluster) in clusters.enumerated() {
            let app = Application(
                responder: CallbackResponder { (request: Request, _: BasicRequestContext) in
                    try await respond(cluster, request)
                },
                server: plainHTTP ? .http1(configuration: counted(cluster)) : try .tls(.http1(configuration: counted(cluster)), tlsConfiguration: tls),
                configuration: .init(address: .hostname(host, port: ports?[index] ?? 0), serverName: "redis-ocsp-simulator"),
                onServerRunning: { channel in continuation.yield((index, channel.localAddress?.port ?? 0)) },
                logger: serverLogger
            )
            apps.append(.init(service: app))
        }
        let group = ServiceGroup(configuration: .init(services: apps, logger: serverLogger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var urls: [String: String] = [:]
        for await (index, port) in listening {
            urls[clusters[index].name] = "\(plainHTTP ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
            if urls.count == clusters.count { break }
        }
        guard urls.count == clusters.count else {
            // The group ended before every server listened: report why (a port in use, say).
            try await task.value
            throw SimulatorError("the simulated clusters stopped before they all listened")
        }
        return SimulatorServer(ca: ca, clusters: clusters, urls: urls, group: group, task: task)
    }

    /// An HTTP/1 server that counts the connections it accepts for `cluster`.
    private static func counted(_ cluster: SimulatedCluster) -> HTTP1Channel.Configuration {
        .init(additionalChannelHandlers: [ConnectionCounter(cluster: cluster)])
    }

    /// Stops every server gracefully and waits until they have closed.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    private static func respond(_ cluster: SimulatedCluster, _ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let answer = await cluster.handle(SimRequest(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
            authorization: request.headers[.authorization], body: Array(body.readableBytesView), host: request.head.authority
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
    public init(_ description: String) { self.description = description }
}

/// Counts a connection when it is set up: each connection's pipeline gets one.
private final class ConnectionCounter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let cluster: SimulatedCluster

    init(cluster: SimulatedCluster) { self.cluster = cluster }

    func handlerAdded(context: ChannelHandlerContext) { cluster.connectionAccepted() }
}
