import Foundation
import OCSPSimulator
import Testing

/// The landing page as a person sees it: rendered by headless Chromium.
@Suite(.serialized)
struct LandingPageBrowserTests {
    static func render(_ url: String, screenshot: String? = nil) async throws -> String {
        let arguments = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,700"]
            + (screenshot.map { ["--screenshot=\($0)"] } ?? ["--dump-dom"]) + [url]
        return try await Subprocess.run(arguments).output
    }

    @Test func theClusterTableShowsEachScenariosState() async throws {
        let scenarios: [Scenario] = [.healthy, .revoked, .disabled, .unsupported, .stale, .unauthorized]
        try await ExporterHarness.with(scenarios.map { SimulatedCluster(name: $0.rawValue, scenario: $0) },
                                       extraTopYAML: "evaluation_interval: 200ms\n") { harness in
            try await harness.waitForRounds(1)
            let dom = try await Self.render("http://127.0.0.1:\(harness.port)/")
            func row(_ cluster: String) -> String {
                guard let start = dom.range(of: "data-cluster=\"\(cluster)\"") else { return "" }
                return String(dom[start.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "</tr>")[0])
            }
            #expect(dom.contains("<h1>redis-ocsp-exporter</h1>"))
            #expect(row("healthy").contains("GOOD") && row("healthy").contains("<td class=\"detail\">none</td><td class=\"detail\">none</td>"), "\(row("healthy"))")
            #expect(row("revoked").contains("REVOKED") && row("revoked").contains("RedisOCSPCertRevoked firing"))
            #expect(row("disabled").contains("<td>disabled</td>") && row("disabled").contains("RedisOCSPDisabled pending"))
            #expect(row("unsupported").contains("<td>no</td>") && row("unsupported").contains("ocsp_unsupported_by_capability"))
            #expect(row("stale").contains(" ago)") && row("stale").contains("RedisOCSPResponseStale firing"))
            #expect(row("unauthorized").contains("http_401"))
            // Rows with trouble stand out.
            #expect(dom.contains("class=\"ok\" data-cluster=\"healthy\""))
            #expect(dom.contains("class=\"error\" data-cluster=\"revoked\""))
            if let path = ProcessInfo.processInfo.environment["LANDING_PAGE_SCREENSHOT"] {
                _ = try await Self.render("http://127.0.0.1:\(harness.port)/", screenshot: path)
            }
        }
    }
}
