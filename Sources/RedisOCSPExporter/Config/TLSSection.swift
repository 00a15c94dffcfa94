import NIOSSL
import YAML

/// The `tls:` section of a cluster and of the Alertmanager client.
extension Reader {
    mutating func readTLS(_ node: YAMLNode?, field: String, allowServerName: Bool = true) -> (TLSConfiguration?, String?) {
        var tls = TLSConfiguration.makeClientConfiguration()
        let allowed = ["ca_file", "cert_file", "key_file", "insecure_skip_verify", "min_version"] + (allowServerName ? ["server_name"] : [])
        guard let fields = mapping(node, field, allowed: allowed) else {
            return (nil, nil)
        }
        let before = issues.count
        // The client sends credentials: never over a protocol version with known weaknesses,
        // unless the configuration says so for an old server.
        tls.minimumTLSVersion = .tlsv12
        if let text = string(fields["min_version"], "\(field).min_version") {
            if let version = Self.tlsVersions[text] {
                tls.minimumTLSVersion = version
            } else {
                issue("\(field).min_version", fields["min_version"], "must be one of \(Self.tlsVersions.keys.sorted().joined(separator: ", "))")
            }
        }
        if let certificates = pemCertificates(fields["ca_file"], "\(field).ca_file") {
            tls.trustRoots = .certificates(certificates)
        }
        switch (fields["cert_file"], fields["key_file"]) {
        case (_?, _?):
            if let chain = pemCertificates(fields["cert_file"], "\(field).cert_file") { tls.certificateChain = chain.map { .certificate($0) } }
            if let key = pemPrivateKey(fields["key_file"], "\(field).key_file") { tls.privateKey = .privateKey(key) }
        case (let cert?, nil): issue("\(field).key_file", cert, "is required with cert_file")
        case (nil, let key?): issue("\(field).cert_file", key, "is required with key_file")
        case (nil, nil): break
        }
        let serverName = hostName(fields["server_name"], "\(field).server_name")
        if bool(fields["insecure_skip_verify"], "\(field).insecure_skip_verify") == true {
            tls.certificateVerification = .none
            warn("\(field).insecure_skip_verify", fields["insecure_skip_verify"],
                 "the server's certificate is not verified: anyone on the path can pose as it and read the credentials")
        }
        return issues.count == before ? (tls, serverName) : (nil, nil)
    }
}
