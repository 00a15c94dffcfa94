import FoundationEssentials
import NIOSSL
import YAML

/// Where and how the built-in evaluator's alerts are sent.
struct AlertmanagerConfig: Sendable {
    /// Base URLs; alerts go to `<url>/api/v2/alerts` of each.
    var urls: [String]
    var timeout: Duration
    /// How often a firing alert is sent again (Prometheus's resend delay).
    var resendInterval: Duration
    var externalLabels: Labels
    var authorization: Secret?
    var tls: TLSConfiguration
    /// Alerts waiting while Alertmanager is unreachable; the oldest are dropped past this.
    var queueCapacity: Int
    /// The same queue's bound in bytes of label and annotation text, so alerts a cluster's
    /// data made large cannot grow the process while Alertmanager is down.
    var queueMaxBytes = 8 << 20

    static let defaultResendInterval = Duration.seconds(60)
}

extension Reader {
    mutating func readAlertmanager(_ node: YAMLNode?) -> AlertmanagerConfig? {
        guard node != nil else { return nil }
        let field = "alertmanager"
        guard let fields = mapping(node, field, allowed: ["urls", "timeout", "resend_interval", "external_labels", "basic_auth",
                                                          "bearer_token_file", "tls", "queue_capacity"]) else { return nil }
        let before = issues.count
        var urls: [String] = []
        if case .sequence(let items, _)? = fields["urls"], !items.isEmpty {
            for (i, item) in items.enumerated() {
                if let url = url(item, "\(field).urls[\(i)]", parent: item) { urls.append(url) }
            }
        } else {
            issue("\(field).urls", fields["urls"] ?? node, "must list at least one Alertmanager URL")
        }
        let timeout = duration(fields["timeout"], "\(field).timeout") ?? .seconds(10)
        let resend = duration(fields["resend_interval"], "\(field).resend_interval") ?? AlertmanagerConfig.defaultResendInterval
        let externalLabels = readLabels(fields["external_labels"], field: "\(field).external_labels",
                                        reserved: ["alertname", "cluster", "severity"])
        var authorization: Secret?
        if fields["basic_auth"] != nil, fields["bearer_token_file"] != nil {
            issue("\(field).bearer_token_file", fields["bearer_token_file"], "set only one of basic_auth and bearer_token_file")
        } else if let auth = mapping(fields["basic_auth"], "\(field).basic_auth",
                                     allowed: ["username", "password", "password_file", "password_env"]), !auth.isEmpty {
            authorization = readCredentials(auth, field: "\(field).basic_auth")?.basicAuthorization
        } else if let node = fields["bearer_token_file"], let token = secretFile(node, "\(field).bearer_token_file") {
            authorization = Secret("Bearer " + token)
        }
        let (tls, _) = readTLS(fields["tls"], field: "\(field).tls", allowServerName: false)
        let capacity = int(fields["queue_capacity"], "\(field).queue_capacity", range: 1...1_000_000) ?? 10_000
        guard issues.count == before, let tls else { return nil }
        return AlertmanagerConfig(urls: urls, timeout: timeout, resendInterval: resend, externalLabels: externalLabels,
                                  authorization: authorization, tls: tls, queueCapacity: capacity)
    }
}
