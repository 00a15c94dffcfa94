import FoundationEssentials

/// The HTML page at `/`: the `check` report of every cluster as the running exporter sees it
/// (its live alerts, pending ones included), worst first, narrow enough for a laptop screen.
enum LandingPage {
    static func render(_ entries: [SnapshotStore.Entry], rules engine: RuleEngine, telemetryPath: String, now: Double) -> String {
        let rules = engine.rules
        let report = CheckReport(clusters: entries.map { entry in
            ClusterReport(entry.snapshot, alerts: engine.alerts(entry.snapshot.name), rules: rules, now: now)
        })
        let refresh = max(5, Int(engine.evaluationInterval.seconds))
        var sections = ""
        for c in report.clusters {
            let status = c.polledAt == nil ? "PENDING" : c.status.rawValue
            let polled = c.polledAt.map { "last poll " + time($0, RelativeTime.relative($0, now: now)) } ?? "not polled yet"
            sections += """
                <section class="cluster s-\(status)" data-cluster="\(escape(c.cluster))" data-status="\(status)">
                <h2><span class="badge">\(status)</span> \(escape(c.cluster)) <small>\(polled)</small></h2>

                """
            if !c.problems.isEmpty {
                sections += "<ul class=\"problems\">\n"
                for p in c.problems {
                    let labels = escape(p.qualifier)
                    let runbook = p.runbookURL.isEmpty ? "" : " <a href=\"\(escape(p.runbookURL))\">Runbook</a>"
                    let cause = p.cause.map { "<br><span class=\"cause\">Cause: \(escape($0))</span>" } ?? ""
                    sections += """
                        <li class="p-\(p.status.rawValue) \(p.state)"><b>\(p.status.rawValue)</b> <code>\(escape(p.alertname))</code>\(labels)\
                        \(p.state == "pending" ? " <i>pending</i>" : ""): \(escape(p.summary))\(cause)<br><span class="todo">\(escape(p.description))\(runbook)</span></li>

                        """
                }
                sections += "</ul>\n"
            }
            sections += "<dl>\n"
            for (heading, lines) in c.facts(now: now) {
                let html = lines.map { line in
                    line.map { segment in
                        switch segment {
                        case .text(let text): escape(text)
                        case .time(let t, let relative): time(t, relative)
                        }
                    }.joined()
                }.joined(separator: "<br>")
                sections += "<dt>\(escape(heading))</dt><dd>\(html)</dd>\n"
            }
            sections += "</dl></section>\n"
        }
        let counts = ClusterReport.Status.allCases.map { s in
            "<span class=\"n-\(s.rawValue)\">\(report.clusters.filter { $0.status == s && $0.polledAt != nil }.count) \(s.rawValue)</span>"
        }
        let pending = report.clusters.filter { $0.polledAt == nil }.count
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="\(refresh)">
            <meta name="viewport" content="width=device-width, initial-scale=1"><title>redis-ocsp-exporter</title>
            <style>
            body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em;color:#222}
            h1{margin:.2em 0}.nav{color:#555}.summary{font-size:1.2em;font-weight:600}
            .cluster{border:1px solid #ccc;border-left:.5em solid #999;border-radius:4px;margin:1em 0;padding:.2em 1em .6em}
            .cluster h2{font-size:1.15em;margin:.5em 0}.cluster h2 small{font-weight:normal;color:#666;font-size:.8em}
            .badge{display:inline-block;min-width:6.5em;text-align:center;border-radius:3px;padding:0 .4em;color:#fff;background:#999;font-size:.85em}
            .s-OK{border-left-color:#2e7d32}.s-OK .badge{background:#2e7d32}
            .s-WARNING{border-left-color:#ef6c00}.s-WARNING .badge{background:#ef6c00}
            .s-CRITICAL{border-left-color:#c62828}.s-CRITICAL .badge{background:#c62828}
            .s-UNKNOWN{border-left-color:#6a1b9a}.s-UNKNOWN .badge{background:#6a1b9a}
            .n-OK{color:#2e7d32}.n-WARNING{color:#ef6c00}.n-CRITICAL{color:#c62828}.n-UNKNOWN{color:#6a1b9a}
            ul.problems{margin:.3em 0 .6em;padding-left:1.2em}ul.problems li{margin:.25em 0}
            .p-CRITICAL b{color:#c62828}.p-WARNING b{color:#ef6c00}.todo{color:#444;font-size:.92em}
            dl{display:grid;grid-template-columns:9em minmax(0,1fr);gap:.15em 1em;margin:.3em 0}
            dt{color:#666}dd{margin:0;overflow-wrap:anywhere}span[title]{border-bottom:1px dotted #888}
            </style></head><body>
            <h1>redis-ocsp-exporter</h1>
            <p class="nav">OCSP stapling of Redis Software clusters · <a href="\(escape(telemetryPath))">\(escape(telemetryPath))</a>
            · <a href="/api/v1/alerts">/api/v1/alerts</a> · <a href="/-/healthy">/-/healthy</a> · <a href="/-/ready">/-/ready</a> · version \(BuildInfo.version)</p>
            <p class="summary" id="summary">\(report.clusters.count) cluster\(report.clusters.count == 1 ? "" : "s"): \(counts.joined(separator: ", "))\(pending > 0 ? ", \(pending) not polled yet" : "")</p>
            \(sections)</body></html>

            """
    }

    /// "31m ago", with the date on hover.
    static func time(_ t: Int64, _ relative: String) -> String {
        "<span title=\"\(RelativeTime.date(t))\">\(escape(relative))</span>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.escapingControlCharacters {
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
