import RedisSoftwareAPI
import Foundation

/// The HTML page at `/`: each cluster's last poll, OCSP state and current errors.
enum LandingPage {
    static func render(_ entries: [SnapshotStore.Entry], alerts activeAlerts: (String) -> [Alert], telemetryPath: String,
                       now: Double = Date().timeIntervalSince1970) -> String {
        var rows = ""
        for entry in entries {
            let s = entry.snapshot
            let lastPoll = s.polledAt.map { "\(HTTPDate.format(Int64($0))) (\(Int(now - $0))s ago)" } ?? "not yet"
            let enabled = s.config.map { $0.enabled ? "enabled" : "disabled" } ?? "?"
            let supported = s.supported.map { $0 ? "yes" : "no" } ?? "?"
            let cert = s.status.map(\.certStatus.rawValue) ?? "?"
            let next = s.status?.nextUpdate.map { t in
                "\(HTTPDate.format(t)) (\(t >= Int64(now) ? "in \(Int64(now).distance(to: t))s" : "\(t.distance(to: Int64(now)))s ago"))"
            } ?? "?"
            let errors = s.endpoints.compactMap { h in h.error.map { "\(h.endpoint): \($0.code) (\($0.message))" } }
            let alerts = activeAlerts(s.name).map { alert in
                let endpoint = alert.labels.first { $0.name == "endpoint" }.map { " (\($0.value))" } ?? ""
                return "<span class=\"alert-\(alert.state.rawValue) severity-\(escape(alert.severity))\">\(alert.rule.rawValue)\(escape(endpoint)) \(alert.state.rawValue)</span>"
            }
            let stapled = s.stapling.map { "\($0.endpoint): \(describe($0, now: now))" }
            let access = describeAccess(s)
            let state = s.polledAt == nil ? "pending" : (errors.isEmpty && alerts.isEmpty ? "ok" : "error")
            rows += """
                <tr class="\(state)" data-cluster="\(escape(s.name))"><td>\(escape(s.name))</td><td>\(escape(s.baseURL))</td><td>\(lastPoll)</td>\
                <td class="detail">\(escape(access))</td><td>\(enabled)</td><td>\(supported)</td><td class="cert-\(cert)">\(cert)</td><td>\(next)</td>\
                <td class="detail">\(errors.isEmpty ? "none" : errors.map(escape).joined(separator: "<br>"))</td>\
                <td class="detail">\(alerts.isEmpty ? "none" : alerts.joined(separator: "<br>"))</td>\
                <td class="detail">\(stapled.isEmpty ? "not probed" : stapled.map(escape).joined(separator: "<br>"))</td></tr>

                """
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>redis-ocsp-exporter</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top;white-space:nowrap}
            td.detail{white-space:normal;min-width:16em}
            th{background:#f3f3f3}tr.error td{background:#fdecea}tr.pending td{color:#888}
            .cert-REVOKED,.cert-UNKNOWN,.alert-firing{color:#b00020;font-weight:bold}.cert-GOOD{color:#1b5e20}.alert-pending{color:#a15c00}
            </style></head><body>
            <h1>redis-ocsp-exporter</h1>
            <p>OCSP stapling state of Redis Software clusters. Metrics: <a href="\(escape(telemetryPath))">\(escape(telemetryPath))</a>
            · <a href="/api/v1/alerts">/api/v1/alerts</a> · <a href="/-/healthy">/-/healthy</a> · <a href="/-/ready">/-/ready</a> · version \(BuildInfo.version)</p>
            <table id="clusters">
            <tr><th>Cluster</th><th>REST API</th><th>Last poll</th><th>Access</th><th>OCSP</th><th>Supported</th><th>Cert status</th><th>Next update</th><th>Current errors</th><th>Alerts</th><th>Stapled (what clients get)</th></tr>
            \(rows)</table>
            </body></html>

            """
    }

    /// The access level, and for a viewer the OCSP endpoints refuse, what to do.
    static func describeAccess(_ snapshot: ClusterSnapshot) -> String {
        guard let level = snapshot.accessLevel else { return "?" }
        let refused = snapshot.refusedPermissions
        return level == .viewer && !refused.isEmpty ? "viewer: " + AccessLevel.viewerHint(refused: refused) : level.rawValue
    }

    /// One endpoint's stapled view in a few words.
    static func describe(_ probe: StaplingProbeState, now: Double) -> String {
        guard let result = probe.result else { return "not yet probed" }
        switch result {
        case .failure(let error): return "probe failed: \(error.code) (\(error.message))"
        case .success(let handshake):
            guard let staple = handshake.staple else { return "no staple" }
            var words = [staple.certStatus?.rawValue ?? "no status", staple.verified ? "verifies" : "does not verify: \(staple.problem ?? "")"]
            if let next = staple.nextUpdate {
                words.append(Double(next) >= now ? "next update in \(Int(Double(next) - now))s" : "expired \(Int(now - Double(next)))s ago")
            }
            return words.joined(separator: ", ")
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
