import YAML

/// Where and how often to look at the OCSP staple clients receive (`stapling_probe:`).
struct StaplingProbeConfig: Sendable, Equatable {
    /// Database endpoints or the proxy, each probed on its own.
    var endpoints: [ProbeEndpoint]
    /// SNI sent in the handshake; default: each endpoint's host.
    var serverName: String?
    /// The CA bundle (PEM) the served chain must verify against, which also supplies the
    /// leaf's issuer when the server does not send it; its text is read once per load.
    var caFile: String?
    var caPEM: [UInt8]?
    /// Default: the cluster's timeout.
    var timeout: Duration
    /// Default: the cluster's poll interval.
    var interval: Duration
}

extension Reader {
    /// The `stapling_probe:` section; its interval and timeout default to the cluster's.
    mutating func readStaplingProbe(_ node: YAMLNode?, field: String, interval: Duration, timeout: Duration) -> StaplingProbeConfig? {
        guard let node, let fields = mapping(node, field, allowed: ["endpoints", "server_name", "ca_file", "timeout", "interval"]) else {
            return nil
        }
        var endpoints: [ProbeEndpoint] = []
        switch fields["endpoints"] {
        case .sequence(let items, _)?:
            for (index, item) in items.enumerated() {
                guard let text = string(item, "\(field).endpoints[\(index)]") else { continue }
                if let endpoint = ProbeEndpoint(text) {
                    if endpoints.contains(endpoint) {
                        issue("\(field).endpoints[\(index)]", item, "\(text) is listed twice")
                    } else {
                        endpoints.append(endpoint)
                    }
                } else {
                    issue("\(field).endpoints[\(index)]", item, "\"\(text)\" is not host:port (e.g. redis-12000.example.com:12000)")
                }
            }
            if items.isEmpty { issue("\(field).endpoints", fields["endpoints"], "must list at least one host:port") }
        case nil:
            issue("\(field).endpoints", node, "is required: the host:port of each TLS endpoint to probe")
        case let other?:
            issue("\(field).endpoints", other, "must be a list of host:port")
        }
        let serverName = hostName(fields["server_name"], "\(field).server_name")
        let caFile = path(fields["ca_file"], "\(field).ca_file")
        var caPEM: [UInt8]?
        if let caFile, pemCertificates(fields["ca_file"], "\(field).ca_file") != nil, case .success(let text) = ConfigFile.text(caFile) {
            caPEM = Array(text.utf8)
        }
        return StaplingProbeConfig(
            endpoints: endpoints, serverName: serverName, caFile: caFile, caPEM: caPEM,
            timeout: duration(fields["timeout"], "\(field).timeout") ?? timeout,
            interval: duration(fields["interval"], "\(field).interval") ?? interval
        )
    }
}
