import AsyncHTTPClient
import NIOConcurrencyHelpers

/// HTTP clients that reach a redirect's target while still verifying the cluster's own name.
/// A node that is not the master redirects to the master's address, usually an IP that the
/// cluster's certificate does not name: each client here sends the cluster's name (SNI, host
/// name check) to that address through a DNS override, so credentials only go to a server
/// that proves it is the cluster. One client per (name, address), at most `limit` of them.
final class RedirectClients: Sendable {
    private struct Route: Hashable {
        var name: String
        var host: String
    }

    private let base: HTTPClient.Configuration
    private let limit: Int
    private let clients = NIOLockedValueBox<[Route: HTTPClient]>([:])

    init(base: HTTPClient.Configuration, limit: Int) {
        self.base = base
        self.limit = limit
    }

    /// The client that connects to `host` for requests addressed to `name`; nil once `limit`
    /// routes exist, so a server cannot make the exporter open clients without end.
    func client(name: String, host: String) -> HTTPClient? {
        clients.withLockedValue { clients in
            let route = Route(name: name, host: host)
            if let client = clients[route] { return client }
            guard clients.count < limit else { return nil }
            var configuration = base
            configuration.dnsOverride = [name: host]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients[route] = client
            return client
        }
    }

    func shutdown() async {
        let all = clients.withLockedValue { clients in
            defer { clients = [:] }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }
}
