import YAML

/// Whether and how often to ask the cluster's OCSP responder directly (`responder_probe:`).
struct ResponderProbeConfig: Sendable, Equatable {
    static let defaultInterval = Duration.seconds(60)
    static let defaultTimeout = Duration.seconds(10)

    var interval = defaultInterval
    var timeout = defaultTimeout
    /// The responder to ask; default: the served certificate's OCSP URL, else the cluster's `responder_url`.
    var url: String?
}

extension Reader {
    /// The `responder_probe:` section (`{}` takes the defaults). It asks about the certificate
    /// the stapling probe's handshake shows, so it needs `stapling_probe:` beside it.
    mutating func readResponderProbe(_ node: YAMLNode?, field: String, stapling: YAMLNode?) -> ResponderProbeConfig? {
        guard let node, let fields = mapping(node, field, allowed: ["interval", "timeout", "url"]) else { return nil }
        var probe = ResponderProbeConfig()
        if let interval = duration(fields["interval"], "\(field).interval") { probe.interval = interval }
        if let timeout = duration(fields["timeout"], "\(field).timeout") { probe.timeout = timeout }
        if let urlNode = fields["url"] { probe.url = url(urlNode, "\(field).url", parent: node) }
        if stapling == nil {
            issue(field, node, "needs stapling_probe: the request is about the certificate and issuer its handshake shows")
        }
        return probe
    }
}
