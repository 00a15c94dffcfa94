import Foundation
import OCSPSimulator
import Testing

/// The landing page as a person sees it: rendered by headless Chromium on a 1280x800 screen.
@Suite(.serialized)
struct LandingPageBrowserTests {
    static func chromium(_ target: String, screenshot: String? = nil) async throws -> String {
        let arguments = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,800",
                         "--virtual-time-budget=2000"] + (screenshot.map { ["--screenshot=\($0)"] } ?? ["--dump-dom"]) + [target]
        return try await Subprocess.run(arguments).output
    }

    @Test func theReportShowsEachClusterWorstFirstAndFitsTheScreen() async throws {
        let scenarios: [Scenario] = [.healthy, .revoked, .disabled, .unsupported, .stale, .unauthorized]
        // One frozen moment for the clusters and the exporter: the relative times read exactly.
        let frozen = Int64(Date().timeIntervalSince1970)
        try await ExporterHarness.with(scenarios.map { SimulatedCluster(name: $0.rawValue, scenario: $0, clock: { frozen }) },
                                       extraTopYAML: "evaluation_interval: 200ms\n", now: { Double(frozen) }) { harness in
            try await harness.waitForRounds(1)
            let url = "http://127.0.0.1:\(harness.port)/"
            let dom = try await Self.chromium(url)
            func section(_ cluster: String) -> String {
                guard let start = dom.range(of: "data-cluster=\"\(cluster)\"") else { return "" }
                return String(dom[start.upperBound...].components(separatedBy: "</section>")[0])
            }
            #expect(dom.contains("<h1>redis-ocsp-exporter</h1>"))
            #expect(dom.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
            #expect(dom.contains("6 clusters: <span class=\"n-OK\">1 OK</span>, <span class=\"n-WARNING\">2 WARNING</span>, <span class=\"n-CRITICAL\">2 CRITICAL</span>, <span class=\"n-UNKNOWN\">1 UNKNOWN</span>"))
            // Worst first: UNKNOWN, the CRITICALs, the WARNINGs, then OK.
            let order = ["unauthorized", "revoked", "stale", "disabled", "unsupported", "healthy"].map { dom.range(of: "data-cluster=\"\($0)\"")?.lowerBound }
            #expect(order.allSatisfy { $0 != nil } && order.map { $0! } == order.map { $0! }.sorted(), "clusters not worst first")
            #expect(section("healthy").contains("data-status=\"OK\"") && !section("healthy").contains("class=\"problems\""))
            #expect(section("revoked").contains("<code>RedisOCSPCertRevoked</code>: The proxy certificate of cluster revoked is REVOKED"))
            #expect(section("revoked").contains("Replace the proxy certificate now."))
            #expect(section("revoked").contains("href=\"https://github.com/redis-ocsp-exporter/redis-ocsp-exporter/blob/main/docs/runbooks.md#redisocspcertrevoked\""))
            #expect(section("disabled").contains("<code>RedisOCSPDisabled</code> <i>pending</i>"))
            #expect(section("unsupported").contains("6.2.18-65  active  &lt;- blocks OCSP"), "the blocking node is named")
            // Relative times, the date on hover.
            let stale = section("stale")
            #expect(stale.contains("stale for 1h</span>") && stale.contains("<span title=\"20"), "\(stale)")
            #expect(section("unauthorized").contains("http_401"))

            // The page's own layout at 1280 px: measured on a copy with a probe script added (the
            // page itself has no JavaScript).
            let html = String(buffer: try await harness.get("/").body)
            #expect(!html.contains("<script"))
            let probe = harness.directory.appendingPathComponent("probe.html")
            try html.replacingOccurrences(of: "</body>", with: """
                <script>document.body.setAttribute("data-width", document.documentElement.scrollWidth + "/" + window.innerWidth)</script></body>
                """).write(to: probe, atomically: true, encoding: .utf8)
            let measured = try await Self.chromium(probe.absoluteString)
            let width = try #require(measured.range(of: #"data-width="(\d+)/(\d+)""#, options: .regularExpression).map { String(measured[$0]) })
            let numbers = width.dropFirst(12).dropLast().split(separator: "/").compactMap { Int($0) }
            #expect(numbers.count == 2 && numbers[0] <= numbers[1], "the page scrolls sideways at 1280 px: \(width)")
            let screenshot = ProcessInfo.processInfo.environment["LANDING_PAGE_SCREENSHOT"] ?? harness.directory.appendingPathComponent("landing.png").path
            _ = try await Self.chromium(url, screenshot: screenshot)
            #expect(FileManager.default.fileExists(atPath: screenshot))
        }
    }
}
