import FoundationEssentials

/// The reports of one `check` run, in its three forms: text for a terminal, JSON for
/// pipelines, and the monitoring-plugins line for Nagios, Icinga and Sensu.
public struct CheckReport: Sendable, Encodable {
    /// Worst first, then in configuration order.
    public var clusters: [ClusterReport]

    init(clusters: [ClusterReport]) {
        self.clusters = clusters.enumerated().sorted { ($1.element.status, $0.offset) < ($0.element.status, $1.offset) }.map(\.element)
    }

    /// The worst cluster's status; OK without clusters.
    public var status: ClusterReport.Status { clusters.map(\.status).max() ?? .ok }

    /// "3 clusters: 1 OK, 1 WARNING, 1 CRITICAL, 0 UNKNOWN".
    var summary: String {
        let counts = ClusterReport.Status.allCases.map { s in "\(clusters.filter { $0.status == s }.count) \(s.rawValue)" }
        return "\(clusters.count) cluster\(clusters.count == 1 ? "" : "s"): " + counts.joined(separator: ", ")
    }

    public func json() -> String {
        struct Document: Encodable {
            var status: ClusterReport.Status
            var exitCode: Int32
            var clusters: [ClusterReport]
        }
        let data = JSONOutput.encode(Document(status: status, exitCode: status.exitCode, clusters: clusters), pretty: true, snakeCase: true)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// One line: the status, each cluster's problems, and next_update as performance data
    /// (seconds left; warning below the ExpiringSoon threshold, critical below 0).
    public func nagios() -> String {
        let parts = clusters.map { c in
            let detail = c.status == .unknown ? (c.errors.first.map { "\($0.endpoint) \($0.errorCode)" } ?? "not reachable")
                : c.problems.isEmpty ? "" : Array(Set(c.problems.map(\.alertname))).sorted().joined(separator: ", ")
            return "\(c.cluster) \(c.status.rawValue)" + (detail.isEmpty ? "" : ": \(detail)")
        }
        let perf = clusters.compactMap { c -> String? in
            guard let left = c.nextUpdateInSeconds else { return nil }
            let label = clusters.count == 1 ? "next_update_seconds" : "\(c.cluster)_next_update_seconds"
            let quoted = label.contains(where: { $0 == " " || $0 == "'" || $0 == "=" }) ? "'\(label.replacing("'", with: "''"))'" : label
            // Seconds left alert below the thresholds: the plugin range "W:" warns outside W..inf.
            return "\(quoted)=\(left);\(Int64(c.nextUpdateWarningSeconds)):;0:"
        }
        let line = "REDIS-OCSP \(status.rawValue) - " + parts.joined(separator: "; ") + (perf.isEmpty ? "" : " | " + perf.joined(separator: " "))
        return line.escapingControlCharacters + "\n"
    }

    /// The report for a terminal; `color` marks the states with ANSI colours.
    public func text(color: Bool) -> String {
        func paint(_ s: ClusterReport.Status) -> String {
            guard color else { return s.rawValue }
            let code = switch s {
            case .ok: "32"
            case .warning: "33"
            case .critical: "31;1"
            case .unknown: "35"
            }
            return "\u{1B}[\(code)m\(s.rawValue)\u{1B}[0m"
        }
        var out = summary + "\n"
        for c in clusters {
            out += "\n\(c.cluster): \(paint(c.status))\n"
            for (heading, lines) in c.facts(now: Double(c.checkedAt)) {
                for (index, line) in lines.enumerated() {
                    let text = line.map { segment in
                        switch segment {
                        case .text(let text): text
                        case .time(let t, let relative): "\(RelativeTime.date(t)) (\(relative))"
                        }
                    }.joined()
                    let shown = index == 0 ? heading : ""
                    out += "  " + shown + String(repeating: " ", count: max(1, 13 - shown.count)) + text.escapingControlCharacters + "\n"
                }
            }
            if c.problems.isEmpty {
                out += "  Problems     none\n"
            } else {
                out += "  Problems\n"
                for p in c.problems {
                    out += "    \(paint(p.status)) \(p.alertname)\(p.qualifier.escapingControlCharacters): \(p.summary.escapingControlCharacters)\n"
                    if let cause = p.cause { out += "      Cause: \(cause.escapingControlCharacters)\n" }
                    out += "      \(p.description.escapingControlCharacters)\n"
                    if !p.runbookURL.isEmpty { out += "      Runbook: \(p.runbookURL)\n" }
                }
            }
        }
        return out
    }
}

extension ClusterReport {
    /// A piece of a fact: text, or a time with how it reads relative to now ("in 1h 41m");
    /// the text form prints the date beside it, the page shows the date on hover.
    enum Segment {
        case text(String)
        case time(Int64, String)
    }

    /// The facts in reading order: a heading and its lines; the text and HTML forms share them.
    func facts(now: Double) -> [(heading: String, lines: [[Segment]])] {
        func when(_ t: Int64) -> Segment { .time(t, RelativeTime.relative(t, now: now)) }
        func line(_ text: String) -> [[Segment]] { [[.text(text)]] }
        var facts: [(heading: String, lines: [[Segment]])] = []
        if let at = clientsFailAt, let reason = clientsFailReason {
            let relative = Double(at) <= now ? "already: \(reason)" : "in \(RelativeTime.span(Double(at) - now)): \(reason)"
            facts.append(("Clients fail", [[.time(at, relative)]]))
        }
        facts.append(("REST API", line(url)))
        facts.append(("Access", line(accessLevel.map { level in
            level == "viewer" && !refusedPermissions.isEmpty ? "viewer: " + AccessLevel.viewerHint(refused: refusedPermissions) : level
        } ?? "unknown")))
        if ocspEnabled == nil, supported == nil, accessLevel == "viewer" {
            facts.append(("OCSP", line("not readable at viewer level" + (stapled.isEmpty ? "" : "; the stapled view is what clients get"))))
        } else {
            let ocsp = ocspEnabled.map { $0 ? "enabled" : "disabled" } ?? "unknown"
            let support = supported.map { $0 ? "supported by every node" : "NOT supported by every node" } ?? "support unknown"
            facts.append(("OCSP", line("\(ocsp), \(support)")))
        }
        if let certStatus {
            facts.append(("Cert status", [[.text(certStatus)] + (revocationTime.map { [.text(" since "), when($0)] } ?? [])]))
        }
        if let t = producedAt { facts.append(("Produced at", [[when(t)]])) }
        if let t = thisUpdate { facts.append(("This update", [[when(t)]])) }
        if let next = nextUpdate, let left = nextUpdateInSeconds {
            let relative = left >= 0 ? "next update in \(RelativeTime.span(Double(left)))" : "stale for \(RelativeTime.span(Double(left)))"
            facts.append(("Next update", [[.time(next, relative)]]))
        }
        if let responderURL { facts.append(("Responder", line(responderURL.isEmpty ? "none" : responderURL))) }
        if let nodes {
            facts.append(("Nodes", nodes.isEmpty ? line("none") : nodes.map { n in
                [.text("node \(n.uid)  \(n.addr)  \(n.softwareVersion.isEmpty ? "unknown version" : n.softwareVersion)  \(n.status)"
                    + (n.blocksOCSP ? "  <- blocks OCSP" : ""))]
            }))
        }
        if !stapled.isEmpty {
            facts.append(("Stapled", stapled.map { [.text("\($0.endpoint)  \($0.describe(now: now))")] }))
        }
        if let responder {
            facts.append(("Live answer", line("\(responder.url)  \(responder.describe(now: now))")))
        }
        if !errors.isEmpty {
            facts.append(("Errors", errors.map { [.text("\($0.endpoint): \($0.errorCode) (\($0.message))")] }))
        }
        return facts
    }
}

extension ClusterReport.Responder {
    /// Its latest answer, or how it fails, in a few words.
    func describe(now: Double) -> String {
        if let error {
            return "failing" + (failingSince.map { " for \(RelativeTime.span(now - Double($0)))" } ?? "") + ": \(error)"
                + (errorMessage.map { " (\($0))" } ?? "")
        }
        var words = [certStatus ?? "no status"]
        if let next = nextUpdate { words.append("next update \(RelativeTime.relative(next, now: now))") }
        return words.joined(separator: ", ")
    }
}

extension ClusterReport.Stapled {
    /// What a client is handed, in a few words.
    func describe(now: Double) -> String {
        if let error { return "probe failed: \(error)" + (errorMessage.map { " (\($0))" } ?? "") }
        guard staplePresent == true else { return "no staple" }
        var words = [certStatus ?? "no status", verified == true ? "verifies" : "does not verify: \(problem ?? "unknown")"]
        if let next = nextUpdate {
            words.append(Double(next) >= now ? "next update in \(RelativeTime.span(Double(next) - now))" : "expired \(RelativeTime.span(Double(next) - now)) ago")
        }
        if let notAfter = signerNotAfter {
            words.append("\(signerDelegated == true ? "delegated signer" : "signed by the issuer, which") expires \(RelativeTime.relative(notAfter, now: now))")
        }
        if let notAfter = certNotAfter { words.append("certificate expires \(RelativeTime.relative(notAfter, now: now))") }
        if matchesCluster == false { words.append("NOT the cluster's proxy certificate") }
        return words.joined(separator: ", ")
    }
}
