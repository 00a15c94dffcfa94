import RedisSoftwareAPI
import YAML
/// The built-in alerting rules. `rawValue` is the alertname, shared with alerts/.
enum RuleName: String, Sendable, CaseIterable, Comparable {
    case disabled = "RedisOCSPDisabled"
    case unsupportedNodes = "RedisOCSPUnsupportedNodes"
    case noResponderURL = "RedisOCSPNoResponderURL"
    case certRevoked = "RedisOCSPCertRevoked"
    case certStatusUnknown = "RedisOCSPCertStatusUnknown"
    case responseStale = "RedisOCSPResponseStale"
    case responseExpiringSoon = "RedisOCSPResponseExpiringSoon"
    case apiDown = "RedisOCSPAPIDown"
    case stapleMissing = "RedisOCSPStapleMissing"
    case stapleInvalid = "RedisOCSPStapleInvalid"
    case stapleMismatch = "RedisOCSPStapleMismatch"
    case stapleStale = "RedisOCSPStapleStale"
    case queryFailing = "RedisOCSPQueryFailing"
    case clusterCertificateExpiring = "RedisClusterCertificateExpiring"

    static func < (a: RuleName, b: RuleName) -> Bool { a.rawValue < b.rawValue }

    var defaultSeverity: String {
        switch self {
        case .certRevoked, .certStatusUnknown, .responseStale, .stapleMissing, .stapleInvalid, .stapleStale: "critical"
        default: "warning"
        }
    }

    /// Critical conditions page at once; the others wait out short blips.
    var defaultFor: Duration {
        switch self {
        case .certRevoked, .certStatusUnknown, .responseStale, .stapleInvalid, .stapleStale: .zero
        case .apiDown: .seconds(600)
        // Right after the cluster refreshes its answer, the proxies staple the old one for a while.
        case .stapleMismatch: .seconds(900)
        default: .seconds(300)
        }
    }

    /// Parameters only some rules take, beyond the common ones.
    var parameters: [String] {
        switch self {
        case .responseExpiringSoon, .clusterCertificateExpiring: ["threshold"]
        case .unsupportedNodes: ["min_software_version"]
        default: []
        }
    }

    /// Where the runbooks are unless `rules.runbook_base_url` says otherwise.
    static let defaultRunbookBase = "https://github.com/redis-ocsp-exporter/redis-ocsp-exporter/blob/main/docs/runbooks.md"

    /// This rule's entry in the runbooks: its heading's anchor.
    func runbookURL(base: String = defaultRunbookBase) -> String { base + "#" + rawValue.lowercased() }

    /// The default annotations. The same texts stand in alerts/redis-ocsp.rules.yml; the
    /// placeholders are those Prometheus templates use.
    var defaultAnnotations: [String: String] {
        let (summary, description): (String, String) = switch self {
        case .disabled:
            ("OCSP stapling is disabled on cluster {{ $labels.cluster }}",
             "ocsp_functionality is false: the proxy staples no OCSP answer and clients that require stapling refuse to connect. Enable it with PUT /v1/ocsp.")
        case .unsupportedNodes:
            ("Not every node of cluster {{ $labels.cluster }} supports OCSP",
             "The cluster answers ocsp_unsupported_by_capability, usually during an upgrade with mixed versions. Finish upgrading the nodes listed in redis_ocsp_node_info.")
        case .noResponderURL:
            ("OCSP is enabled on cluster {{ $labels.cluster }} but has no responder URL",
             "The proxy certificate names no OCSP responder, so the cluster cannot fetch a status to staple. Install a certificate with an OCSP AIA extension.")
        case .certRevoked:
            ("The proxy certificate of cluster {{ $labels.cluster }} is REVOKED",
             "The cached OCSP answer says REVOKED: clients that check stapling refuse every connection. Replace the proxy certificate now.")
        case .certStatusUnknown:
            ("The OCSP status of cluster {{ $labels.cluster }} is UNKNOWN",
             "The responder does not know the proxy certificate: clients that check stapling refuse to connect. Check the certificate's issuer and the responder URL.")
        case .responseStale:
            ("The cached OCSP answer of cluster {{ $labels.cluster }} is stale",
             "next_update passed {{ $value }} seconds ago: clients that check stapling reject the staple. Check that the cluster reaches its responder (POST /v1/ocsp/test).")
        case .responseExpiringSoon:
            ("The cached OCSP answer of cluster {{ $labels.cluster }} expires soon",
             "next_update is {{ $value }} seconds away and the cluster has not refreshed its answer. Check that it reaches its responder (POST /v1/ocsp/test).")
        case .apiDown:
            ("The REST API of cluster {{ $labels.cluster }} fails for {{ $labels.endpoint }}",
             "Requests to the {{ $labels.endpoint }} endpoint have failed for a while, so its OCSP state is not monitored. See redis_ocsp_api_error for the error code.")
        case .stapleMissing:
            ("{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples no OCSP response",
             "OCSP is enabled, but the TLS handshake with {{ $labels.endpoint }} carries no staple: clients that require stapling refuse to connect. Check the proxy's OCSP status (POST /v1/ocsp/test) and the certificate served on this endpoint.")
        case .stapleInvalid:
            ("{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an OCSP response that does not verify",
             "The stapled response is for another certificate or its signature does not verify against the issuer: clients that check stapling reject it. See the exporter's log for the reason.")
        case .stapleMismatch:
            ("{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an older OCSP answer than the cluster holds",
             "This endpoint staples an answer that disagrees with the cluster's cached one (value {{ $value }}: 1 when the certificate status differs, else the seconds by which the staple's nextUpdate is older). Check the proxy of the node behind it.")
        case .stapleStale:
            ("{{ $labels.endpoint }} of cluster {{ $labels.cluster }} staples an expired OCSP response",
             "The stapled response's nextUpdate passed {{ $value }} seconds ago: clients that check stapling reject it. Check that the cluster reaches its responder (POST /v1/ocsp/test).")
        case .queryFailing:
            ("Cluster {{ $labels.cluster }} cannot query its OCSP responder",
             "The cluster itself reports cluster_ocsp_query_failed: its cached OCSP answer is not refreshed and goes stale at next_update, after which clients that check stapling refuse to connect. Check that the nodes reach the responder named in the proxy certificate (POST /v1/ocsp/test).")
        case .clusterCertificateExpiring:
            ("A certificate of cluster {{ $labels.cluster }} expires soon",
             "The cluster reports cluster_certs_about_to_expire or cluster_ca_cert_about_to_expire, or a probed endpoint serves a certificate whose notAfter is less than 30 days away: once it expires, every TLS handshake fails. Renew the certificate and install it on the cluster.")
        }
        return ["summary": summary, "description": description, "runbook_url": runbookURL()]
    }
}

/// One rule's configuration: the defaults above, overridden by the `rules:` section.
struct RuleSettings: Sendable {
    var enabled = true
    var forDuration: Duration
    var severity: String
    var labels: Labels = []
    var annotations: [String: String]
    /// RedisOCSPResponseExpiringSoon: how close next_update may come; RedisClusterCertificateExpiring:
    /// how close a served certificate's notAfter may come.
    var threshold: Threshold
    /// RedisOCSPUnsupportedNodes: nodes below this version are named in the alert.
    var minSoftwareVersion: String?

    init(_ rule: RuleName, runbookBase: String = RuleName.defaultRunbookBase) {
        forDuration = rule.defaultFor
        severity = rule.defaultSeverity
        annotations = rule.defaultAnnotations
        annotations["runbook_url"] = rule.runbookURL(base: runbookBase)
        threshold = .fixed(rule == .clusterCertificateExpiring ? .seconds(30 * 86_400) : .seconds(3600))
    }
}

/// A rule's `threshold`: a duration, or (RedisOCSPResponseExpiringSoon) `auto`, the time one
/// refresh-and-retry cycle of the cluster takes: query_frequency + recovery_frequency *
/// recovery_max_tries, or 1h where the configuration lacks one of them.
enum Threshold: Sendable, Equatable {
    case fixed(Duration)
    case auto

    static let autoFallback = 3600.0

    func seconds(for config: OCSPConfig?) -> Double {
        switch self {
        case .fixed(let duration): return duration.seconds
        case .auto:
            guard let q = config?.queryFrequency, let f = config?.recoveryFrequency, let n = config?.recoveryMaxTries else { return Self.autoFallback }
            return Double(q + f * n)
        }
    }
}

/// Every rule's settings, defaults filled in.
struct RulesConfig: Sendable {
    var settings: [RuleName: RuleSettings]

    init(overrides: [RuleName: RuleSettings] = [:], runbookBase: String = RuleName.defaultRunbookBase) {
        settings = Dictionary(uniqueKeysWithValues: RuleName.allCases.map { ($0, overrides[$0] ?? RuleSettings($0, runbookBase: runbookBase)) })
    }

    subscript(_ rule: RuleName) -> RuleSettings { settings[rule]! }
}

/// The `rules:` section.
extension Reader {
    mutating func readRules(_ node: YAMLNode?) -> RulesConfig {
        guard let entries = mapping(node, "rules", allowed: RuleName.allCases.map(\.rawValue).sorted() + ["runbook_base_url"]) else {
            return RulesConfig()
        }
        var runbookBase = RuleName.defaultRunbookBase
        if let base = string(entries["runbook_base_url"], "rules.runbook_base_url") {
            if base.hasPrefix("https://") || base.hasPrefix("http://") {
                runbookBase = base
            } else {
                issue("rules.runbook_base_url", entries["runbook_base_url"], "must be an http or https URL (the runbooks page; each rule adds #alertname)")
            }
        }
        var overrides: [RuleName: RuleSettings] = [:]
        for (name, ruleNode) in entries {
            guard let rule = RuleName(rawValue: name) else { continue }
            let field = "rules.\(name)"
            var settings = RuleSettings(rule, runbookBase: runbookBase)
            let common = ["enabled", "for", "severity", "labels", "annotations"]
            guard let fields = mapping(ruleNode, field, allowed: common + rule.parameters) else { continue }
            if let enabled = bool(fields["enabled"], "\(field).enabled") { settings.enabled = enabled }
            if let value = duration(fields["for"], "\(field).for", allowZero: true) { settings.forDuration = value }
            if let severity = string(fields["severity"], "\(field).severity") {
                if severity.isEmpty { issue("\(field).severity", fields["severity"], "must not be empty") }
                settings.severity = severity
            }
            settings.labels = readLabels(fields["labels"], field: "\(field).labels",
                                         reserved: Reader.reservedLabelNames.union(["alertname", "cluster", "severity"]))
            if let annotations = mapping(fields["annotations"], "\(field).annotations", allowed: []) {
                for (key, valueNode) in annotations {
                    if let text = string(valueNode, "\(field).annotations.\(key)") { settings.annotations[key] = text }
                }
            }
            if rule == .responseExpiringSoon, case .scalar(let scalar)? = fields["threshold"], DurationParser.parse(scalar.string) == nil {
                if scalar.string == "auto" {
                    settings.threshold = .auto
                } else {
                    issue("\(field).threshold", fields["threshold"], "\"\(scalar.string)\" is neither a duration (e.g. 30m, 2h) nor auto")
                }
            } else if let threshold = duration(fields["threshold"], "\(field).threshold") {
                settings.threshold = .fixed(threshold)
            }
            if let version = string(fields["min_software_version"], "\(field).min_software_version") {
                if version.split(whereSeparator: { $0 == "." || $0 == "-" }).contains(where: { Int($0) == nil }) || version.isEmpty {
                    issue("\(field).min_software_version", fields["min_software_version"], "\"\(version)\" is not a version like 7.8.2 or 7.8.2-34")
                }
                settings.minSoftwareVersion = version
            }
            overrides[rule] = settings
        }
        return RulesConfig(overrides: overrides, runbookBase: runbookBase)
    }
}
