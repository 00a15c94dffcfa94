import Logging
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// Text a server supplies (error messages, node fields) through every text output: a log
/// line, the `check` report, the plugin line and the landing page carry no raw control
/// character, so it can neither forge a log line nor drive a terminal.
@Suite(.tags(.unit))
struct HostileTextTests {
    static let hostile = [
        "line1\r\nts=2026 level=error msg=\"FORGED ENTRY\"\u{1B}[2J", "bell\u{07}", "nul\u{0}byte", "tab\tand\u{7F}del",
        "c1\u{85}next line", "sep\u{2028}arator", "\u{1B}]0;title\u{07}",
    ]

    static func rawControl(_ text: String) -> Bool { text.unicodeScalars.contains(where: \.isControl) }

    @Test(arguments: hostile)
    func aLogLineStaysOneLine(_ text: String) {
        let line = ExporterLogHandler.logfmt([("msg", "check failed"), ("error", text)])
        #expect(!Self.rawControl(String(line.dropLast())), "\(line.debugDescription)")
        #expect(line.hasSuffix("\n") && line.hasPrefix("msg=\"check failed\" error=\""))
        let json = ExporterLogHandler.json([("error", text)])
        #expect(!Self.rawControl(String(json.dropLast())), "\(json.debugDescription)")
    }

    @Test(arguments: hostile)
    func reportsAndThePageShowItEscaped(_ text: String) throws {
        let cluster = try ConfigLoader.load(yaml: "clusters: [{name: c, url: \"https://x\"}]", source: "t").clusters[0]
        var snapshot = ClusterSnapshot(cluster: cluster)
        snapshot.set(NodeList([ClusterNode(uid: 1, addr: text, status: text, softwareVersion: text)]), of: NodesCheck())
        snapshot.recordEndpoints(at: 1) { _ in Fetch<Int>(result: .failure(CheckFailure(code: "http_500", message: text)), duration: 0.1) }
        let report = CheckReport(clusters: [ClusterReport(snapshot, alerts: [], rules: RulesConfig(), now: 1)])
        let terminal = report.text(color: false)
        #expect(!Self.rawControl(terminal.replacingOccurrences(of: "\n", with: "")), "\(terminal.debugDescription)")
        #expect(terminal.contains("\\x1b") || !text.contains("\u{1B}"))
        let plugin = report.nagios()
        #expect(!Self.rawControl(String(plugin.dropLast())) && plugin.hasSuffix("\n"))
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        let engine = RuleEngine(rules: RulesConfig(), resendInterval: .seconds(60), logger: logger)
        let page = LandingPage.render([SnapshotStore.Entry(snapshot: snapshot, version: 1)], rules: engine, telemetryPath: "/metrics", now: 1)
        #expect(!Self.rawControl(page.replacingOccurrences(of: "\n", with: "")), "a control character on the page")
    }
}

/// The plugin line's performance data read by the monitoring-plugins range rules
/// (`[@]start:end`, `~` for minus infinity; an alert when the value is outside the range,
/// or inside with `@`): seconds left warn below the threshold and are critical below 0.
@Suite(.tags(.unit))
struct PluginRangeTests {
    /// Whether `value` alerts under the plugin range `range`.
    static func alerts(_ value: Double, _ range: String) -> Bool {
        var text = Substring(range)
        let inside = text.hasPrefix("@")
        if inside { text = text.dropFirst() }
        let (startText, endText) = text.contains(":") ? (text.split(separator: ":", omittingEmptySubsequences: false)[0], text.split(separator: ":", omittingEmptySubsequences: false)[1]) : ("0", text)
        let start = startText == "~" ? -Double.infinity : Double(startText) ?? 0
        let end = endText.isEmpty ? Double.infinity : Double(endText)!
        let within = start <= value && value <= end
        return inside ? within : !within
    }

    @Test(arguments: [(5000.0, "OK"), (1200, "WARNING"), (0, "WARNING"), (-5, "CRITICAL")])
    func secondsLeftAlertBelowTheThresholds(_ left: Double, _ expected: String) throws {
        let config = try ConfigLoader.load(yaml: "clusters: [{name: c, url: \"https://x\"}]", source: "t").clusters[0]
        var cluster = ClusterReport(ClusterSnapshot(cluster: config), alerts: [], rules: RulesConfig(), now: 1)
        cluster.nextUpdateInSeconds = Int64(left)
        let perf = CheckReport(clusters: [cluster]).nagios().components(separatedBy: " | ")[1].trimmingCharacters(in: .newlines)
        let fields = perf.split(separator: "=")[1].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        let critical = Self.alerts(left, fields[2]), warning = Self.alerts(left, fields[1])
        #expect((critical ? "CRITICAL" : warning ? "WARNING" : "OK") == expected, "\(perf)")
    }
}
