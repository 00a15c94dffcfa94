import Foundation
import Yams

/// The `rules:` and `alertmanager:` sections.
extension Reader {
    mutating func readRules(_ node: Node?) -> RulesConfig {
        guard let entries = mapping(node, "rules", allowed: RuleName.allCases.map(\.rawValue).sorted()) else { return RulesConfig() }
        var overrides: [RuleName: RuleSettings] = [:]
        for (name, ruleNode) in entries {
            guard let rule = RuleName(rawValue: name) else { continue }
            let field = "rules.\(name)"
            var settings = RuleSettings(rule)
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
            if let threshold = duration(fields["threshold"], "\(field).threshold") { settings.threshold = threshold }
            if let version = string(fields["min_software_version"], "\(field).min_software_version") {
                if version.split(whereSeparator: { $0 == "." || $0 == "-" }).contains(where: { Int($0) == nil }) || version.isEmpty {
                    issue("\(field).min_software_version", fields["min_software_version"], "\"\(version)\" is not a version like 7.8.2 or 7.8.2-34")
                }
                settings.minSoftwareVersion = version
            }
            overrides[rule] = settings
        }
        return RulesConfig(overrides: overrides)
    }

    mutating func readAlertmanager(_ node: Node?) -> AlertmanagerConfig? {
        guard node != nil else { return nil }
        let field = "alertmanager"
        guard let fields = mapping(node, field, allowed: ["urls", "timeout", "resend_interval", "external_labels", "basic_auth",
                                                          "bearer_token_file", "tls", "queue_capacity"]) else { return nil }
        let before = issues.count
        var urls: [String] = []
        if case .sequence(let items)? = fields["urls"], !items.isEmpty {
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
            authorization = readCredentials(auth, field: "\(field).basic_auth").map {
                Secret("Basic " + Data("\($0.username):\($0.password.value)".utf8).base64EncodedString())
            }
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
