import FoundationEssentials
import HTTPTypes
import NIOSSL
import YAML

/// `--web.config.file`: TLS, basic auth and response headers for the exporter's own HTTP
/// server, in the format of the Prometheus exporter-toolkit.
struct WebConfig: Sendable {
    /// The server's TLS settings; nil serves plain HTTP.
    var tls: TLSConfiguration?
    /// bcrypt hash by user name; empty means no authentication.
    var users: [String: String]
    /// The configured response headers, with `X-Content-Type-Options: nosniff` unless
    /// configured otherwise: no answer of ours is to be read as anything but its content type,
    /// also one that echoes a request's text. Made once here, not for every response.
    var headerFields: HTTPFields = [.xContentTypeOptions: "nosniff"]
    /// The files the configuration names (certificate, key, client CA), watched for changes.
    var files: [String] = []

    static let plain = WebConfig(tls: nil, users: [:])

    static func load(file path: String) throws -> WebConfig {
        try Reader.read(try ConfigFile.document(path), source: path, environment: ProcessInfo.processInfo.environment) { $0.readWebConfig($1) }
    }
}

extension Reader {
    /// client_auth_type values and the verification each means; the toolkit's other values
    /// (RequestClientCert, RequireAnyClientCert) accept unverified certificates and are refused.
    static let clientAuthTypes: [String: CertificateVerification] = [
        "NoClientCert": .none, "VerifyClientCertIfGiven": .optionalVerification, "RequireAndVerifyClientCert": .noHostnameVerification,
    ]
    static let tlsVersions: [String: TLSVersion] = ["TLS10": .tlsv1, "TLS11": .tlsv11, "TLS12": .tlsv12, "TLS13": .tlsv13]

    mutating func readWebConfig(_ root: YAMLNode?) -> WebConfig? {
        guard let top = mapping(root, "", allowed: ["tls_server_config", "basic_auth_users", "http_server_config"]) else { return nil }
        var config = WebConfig.plain
        if top["tls_server_config"] != nil { (config.tls, config.files) = readServerTLS(top["tls_server_config"]) }
        if let users = mapping(top["basic_auth_users"], "basic_auth_users", allowed: []) {
            for (user, node) in users {
                guard let hash = string(node, "basic_auth_users.\(user)") else { continue }
                if !BcryptHash.isWellFormed(hash) {
                    // The hash itself is not repeated: it is a secret too.
                    issue("basic_auth_users.\(user)", node, "is not a bcrypt hash with a cost of \(BcryptHash.costs.lowerBound) to \(BcryptHash.costs.upperBound) (make one with: htpasswd -nBC 10 \(user))")
                }
                config.users[user] = hash
            }
        }
        if let server = mapping(top["http_server_config"], "http_server_config", allowed: ["headers"]),
           let headers = mapping(server["headers"], "http_server_config.headers", allowed: [])
        {
            for (name, node) in headers.sorted(by: { $0.key < $1.key }) {
                let field = "http_server_config.headers.\(name)"
                guard let value = string(node, field) else { continue }
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }),
                      let fieldName = HTTPField.Name(name)
                else {
                    issue(field, node, "is not a valid header name")
                    continue
                }
                if ["content-type", "content-length", "content-encoding", "www-authenticate", "authorization"].contains(name.lowercased()) {
                    issue(field, node, "is set by the exporter and cannot be configured")
                } else if value.contains(where: { $0 == "\r" || $0 == "\n" }) {
                    issue(field, node, "must be a single line")
                } else {
                    config.headerFields[fieldName] = value
                }
            }
        }
        return config
    }

    /// The server's TLS settings and the files they were read from.
    private mutating func readServerTLS(_ node: YAMLNode?) -> (TLSConfiguration?, [String]) {
        let field = "tls_server_config"
        guard let fields = mapping(node, field, allowed: ["cert_file", "key_file", "client_auth_type", "client_ca_file",
                                                          "min_version", "max_version"]) else { return (nil, []) }
        let before = issues.count
        for name in ["cert_file", "key_file"] where fields[name] == nil {
            issue("\(field).\(name)", node, "is required")
        }
        let chain = pemCertificates(fields["cert_file"], "\(field).cert_file")
        guard let key = pemPrivateKey(fields["key_file"], "\(field).key_file"), let chain else { return (nil, []) }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        for (name, apply) in [("min_version", { (t: inout TLSConfiguration, v: TLSVersion) in t.minimumTLSVersion = v }),
                              ("max_version", { (t: inout TLSConfiguration, v: TLSVersion) in t.maximumTLSVersion = v })] {
            guard let text = string(fields[name], "\(field).\(name)") else { continue }
            guard let version = Self.tlsVersions[text] else {
                issue("\(field).\(name)", fields[name], "must be one of \(Self.tlsVersions.keys.sorted().joined(separator: ", "))")
                continue
            }
            apply(&tls, version)
        }
        let authType = string(fields["client_auth_type"], "\(field).client_auth_type") ?? "NoClientCert"
        if let verification = Self.clientAuthTypes[authType] {
            tls.certificateVerification = verification
        } else {
            issue("\(field).client_auth_type", fields["client_auth_type"],
                  "must be one of \(Self.clientAuthTypes.keys.sorted().joined(separator: ", "))")
        }
        if fields["client_ca_file"] != nil {
            if let certificates = pemCertificates(fields["client_ca_file"], "\(field).client_ca_file") {
                tls.trustRoots = .certificates(certificates)
            }
        } else if authType != "NoClientCert" {
            issue("\(field).client_ca_file", node, "is required with client_auth_type \(authType)")
        }
        let files = ["cert_file", "key_file", "client_ca_file"].compactMap { fields[$0]?.scalar.flatMap { try? expand($0.string).get() } }
        return issues.count == before ? (tls, files) : (nil, [])
    }
}
