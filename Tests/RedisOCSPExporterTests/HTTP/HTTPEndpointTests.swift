import CompressNIO
import Foundation
import Logging
import NIOCore
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

@Suite(.serialized)
struct HTTPEndpointTests {
    @Test func gzipIsServedWhenAcceptedAndMatchesThePlainBody() async throws {
        // One poll only, so both scrapes see the same cluster data.
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            let plain = try await harness.get("/metrics")
            #expect(plain.headers.first { $0.0.lowercased() == "content-encoding" } == nil)
            #expect(plain.headers.contains { $0.0.lowercased() == "content-type" && $0.1 == Exposition.contentType })
            var gzipped = try await harness.get("/metrics", headers: [("Accept-Encoding", "deflate, gzip;q=0.8")])
            #expect(gzipped.headers.contains { $0.0.lowercased() == "content-encoding" && $0.1 == "gzip" })
            let inflated = String(buffer: try gzipped.body.decompress(with: .gzip()))
            // Process metrics change between scrapes; the cluster part must be identical.
            let clusterPart = { (text: String) in text.components(separatedBy: "# HELP redis_ocsp_exporter_build_info")[0] }
            #expect(clusterPart(inflated) == clusterPart(String(buffer: plain.body)))
            #expect(clusterPart(inflated).contains("redis_ocsp_cert_status{cluster=\"a\",status=\"GOOD\"} 1"))
            let refused = try await harness.get("/metrics", headers: [("Accept-Encoding", "gzip;q=0, identity")])
            #expect(refused.headers.first { $0.0.lowercased() == "content-encoding" } == nil)
        }
    }

    /// Header values as clients send them (Prometheus, curl --compressed, browsers, Python
    /// requests, Go's transport) and the edge cases of RFC 9110 §12.5.3: an explicit weight for
    /// gzip wins over `*`, `q=0` refuses, identity preferred over gzip is honoured.
    @Test(arguments: [
        ("gzip", true), ("GZIP", true), ("x-gzip", true), ("gzip, deflate, br", true), ("gzip, deflate, br, zstd", true),
        ("gzip, deflate", true), ("deflate, gzip;q=0.5", true), ("br;q=1.0, gzip;q=0.8, *;q=0.1", true), ("br;q=1.0, *", true),
        (" gzip ; q=1 ", true), ("gzip;Q=0.5", true), ("gzip;q=0.001", true), ("*", true), ("compress, gzip", true),
        ("gzip;q=1.000", true), ("identity;q=0.5, gzip", true), ("gzip;q=0.5, identity;q=0.5", true),
        ("gzip;q=0, *", false), ("gzip;q=0, *;q=1", false), ("*;q=0", false), ("*;q=0, identity", false), ("gzip;q=0", false),
        ("gzip;q=0.0", false), ("gzip;q=0.000", false), ("deflate, br", false), ("identity", false), ("", false), (",", false),
        ("gzipx", false), ("identity;q=1, gzip;q=0.5", false), ("gzip;q=1.5", false), ("gzip;q=abc", false), ("gzip;q=", false),
        ("gzip;q=0.0001", false), ("deflate;q=0.5, br", false),
    ])
    func acceptEncodingIsParsed(_ header: String, _ accepted: Bool) {
        #expect(AcceptEncoding.prefersGzip(header) == accepted, "\(header)")
    }

    /// Scrapes answered from the cached page on the event loop keep pipelined responses in
    /// order and carry the same bytes as the router would.
    @Test func cachedScrapesKeepPipelinedResponsesInOrder() async throws {
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            let first = String(buffer: try await harness.get("/metrics").body)
            let again = String(buffer: try await harness.get("/metrics?x=1").body)
            #expect(first.contains("redis_ocsp_api_up{cluster=\"a\",endpoint=\"config\"} 1"))
            #expect(first.split(separator: "\n").filter { !$0.hasPrefix("process_") } == again.split(separator: "\n").filter { !$0.hasPrefix("process_") })
            let connection = try RawConnection(port: harness.port)
            connection.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
            var text = ""
            let deadline = ContinuousClock.now + .seconds(60)
            while !text.contains("Healthy."), ContinuousClock.now < deadline { text += await connection.receive(timeout: 0.5).text }
            let landing = try #require(text.range(of: "<h1>redis-ocsp-exporter</h1>"))
            let metrics = try #require(text.range(of: "# HELP redis_ocsp_enabled"))
            let healthy = try #require(text.range(of: "Healthy."))
            #expect(landing.lowerBound < metrics.lowerBound && metrics.lowerBound < healthy.lowerBound)
        }
    }

    /// Reads one whole response (head and Content-Length bytes of body) from a raw connection.
    func response(from connection: RawConnection) async -> (head: [String: String], status: String, body: String, closed: Bool) {
        var text = "", closed = false
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, !closed {
            if let end = text.range(of: "\r\n\r\n"),
               let length = text[..<end.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") })
                .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
               text.utf8.count - text[..<end.upperBound].utf8.count >= length { break }
            let chunk = await connection.receive(timeout: 0.2)
            text += chunk.text
            closed = chunk.closed
        }
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        var head: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") { head[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return (head, lines[0], parts.dropFirst().joined(separator: "\r\n\r\n"), closed)
    }

    /// A connection's first scrape goes to the router; the next ones of an unchanged page are
    /// answered by the fast path, with the same head (Date and Server included), and
    /// `Connection: close` ends the connection after the answer on both paths.
    @Test func repeatScrapesTakeTheFastPathWithTheRoutersHeadAndCloseWhenAsked() async throws {
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            _ = try await harness.metrics()  // builds the page
            let connection = try RawConnection(port: harness.port)
            connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let routed = await response(from: connection)
            let before = harness.app.fastPath.answered.load(ordering: .relaxed)
            connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            let fast = await response(from: connection)
            #expect(harness.app.fastPath.answered.load(ordering: .relaxed) == before + 1, "the second scrape did not take the fast path")
            #expect(routed.status == "HTTP/1.1 200 OK" && fast.status == "HTTP/1.1 200 OK")
            #expect(Set(fast.head.keys) == Set(routed.head.keys), "router: \(routed.head.keys.sorted()), fast path: \(fast.head.keys.sorted())")
            for name in ["date", "server", "content-type", "content-length", "vary"] {
                #expect(fast.head[name] != nil, "fast path answer without \(name)")
            }
            #expect(fast.head["server"] == routed.head["server"])
            #expect(fast.body.contains("redis_ocsp_cert_status{cluster=\"a\",status=\"GOOD\"} 1"))
            #expect(!fast.closed)

            connection.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n")
            let last = await response(from: connection)
            #expect(harness.app.fastPath.answered.load(ordering: .relaxed) == before + 2)
            #expect(last.status == "HTTP/1.1 200 OK")
            let closedAfterLast = last.closed ? true : await connection.receive(timeout: 30).closed
            #expect(closedAfterLast, "the connection stayed open after Connection: close")

            let routedClose = try RawConnection(port: harness.port)
            routedClose.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let answer = await response(from: routedClose)
            #expect(answer.status == "HTTP/1.1 200 OK")
            let closedAfterRouted = answer.closed ? true : await routedClose.receive(timeout: 30).closed
            #expect(closedAfterRouted, "the connection stayed open after Connection: close on the router path")
            #expect(try await harness.metrics()["redis_ocsp_exporter_metrics_fast_path_install_failures_total"] == 0)
        }
    }

    @Test func readyOnlyAfterTheFirstRoundAndHealthyAlways() async throws {
        // The slow cluster's first round takes its full timeout, so readiness waits for it.
        let slow = SimulatedCluster(name: "slow", scenario: .slow, slowDelay: .seconds(5))
        try await ExporterHarness.with([slow], timeout: "3s") { harness in
            #expect(try await harness.get("/-/healthy").status == 200)
            #expect(try await harness.get("/-/ready").status == 503)
            try await harness.waitForRounds(1)
            #expect(try await harness.get("/-/ready").status == 200)
            #expect(try await harness.get("/nope").status == 404)
        }
    }

    @Test func landingPageShowsEachCluster() async throws {
        let clusters = [SimulatedCluster(name: "good", scenario: .healthy), SimulatedCluster(name: "<b>bad</b>", scenario: .revoked),
                        SimulatedCluster(name: "down", scenario: .serverError)]
        try await ExporterHarness.with(clusters) { harness in
            try await harness.waitForRounds(1)
            let page = String(buffer: try await harness.get("/").body)
            #expect(page.contains("data-cluster=\"good\" data-status=\"OK\""))
            #expect(page.contains("&lt;b&gt;bad&lt;/b&gt;"))
            #expect(!page.contains("<b>bad</b>"))
            #expect(page.contains("REVOKED"))
            #expect(page.contains("config: http_500"))
            #expect(page.contains("href=\"/metrics\""))
        }
    }

    @Test func alertsAreServedAsPrometheusAPIJSONAndOnTheLandingPage() async throws {
        try await ExporterHarness.with([SimulatedCluster(name: "rev", scenario: .revoked), SimulatedCluster(name: "off", scenario: .disabled)],
                                       extraTopYAML: "evaluation_interval: 200ms\n") { harness in
            try await harness.waitForRounds(1)
            let body = try await harness.get("/api/v1/alerts").body
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
            #expect(document["status"] as? String == "success")
            let alerts = try #require((document["data"] as? [String: Any])?["alerts"] as? [[String: Any]])
            let states = Dictionary(uniqueKeysWithValues: alerts.map {
                (($0["labels"] as? [String: String])?["alertname"] ?? "", $0["state"] as? String ?? "")
            })
            // Critical rules fire at once; RedisOCSPDisabled waits out its 5m `for`.
            #expect(states == ["RedisOCSPCertRevoked": "firing", "RedisOCSPClientsFailSoon": "firing", "RedisOCSPDisabled": "pending"])
            #expect(alerts.allSatisfy { ($0["activeAt"] as? String)?.hasSuffix("Z") == true })
            let page = String(buffer: try await harness.get("/").body)
            #expect(page.contains("<b>CRITICAL</b> <code>RedisOCSPCertRevoked</code>: The proxy certificate of cluster rev is REVOKED"))
            #expect(page.contains("<code>RedisOCSPDisabled</code> <i>pending</i>"))
            let metrics = try await harness.metrics()
            #expect(metrics["redis_ocsp_alerts{cluster=\"off\",alertname=\"RedisOCSPDisabled\",alertstate=\"pending\",severity=\"warning\"}"] == 1)
        }
    }

    @Test func promtoolAcceptsTheExposition() async throws {
        let clusters = [SimulatedCluster(name: "healthy", scenario: .healthy), SimulatedCluster(name: "revoked", scenario: .revoked),
                        SimulatedCluster(name: "unsupported", scenario: .unsupported), SimulatedCluster(name: "down", scenario: .unauthorized),
                        SimulatedCluster(name: "q\"uote", scenario: .stale)]
        try await ExporterHarness.with(clusters, extraClusterYAML: ["healthy": "test_interval: 1h\nlabels: {region: \"eu \\\"west\\\"\"}"]) { harness in
            try await harness.waitForRounds(1)
            let text = try await harness.metricsText()
            let (status, output) = try await Promtool.checkMetrics(text)
            #expect(status == 0, "promtool check metrics: \(output)")
            #expect(text.contains(#"region="eu \"west\"""#))
        }
    }

    @Test func tlsAndConnectionFailuresAreClassified() async throws {
        // No ca_file: the simulator's private CA is not trusted, as with a real cluster's
        // self-signed certificate.
        let cluster = SimulatedCluster(name: "untrusted", scenario: .healthy)
        let simulator = try await SimulatorServer.start([cluster])
        let closedPort = try FreePort.reserve()
        let yaml = """
            poll_interval: 1s
            timeout: \(ExporterHarness.timeout)
            clusters:
              - {name: untrusted, url: "\(simulator.urls["untrusted"]!)"}
              - {name: refused, url: "https://127.0.0.1:\(closedPort)"}
              - {name: plain-http, url: "\(simulator.urls["untrusted"]!.replacingOccurrences(of: "https:", with: "http:"))"}
            """
        let config = try ConfigLoader.load(yaml: yaml, source: "t")
        let store = SnapshotStore(clusters: config.clusters)
        var logger = Logging.Logger(label: "t")
        logger.logLevel = .critical
        let service = Scheduler(config: config, store: store, logger: logger) { _ in }
        let task = Task { try await service.run() }
        try await waitUntil("the first round") { store.firstRoundDone }
        task.cancel()
        await simulator.stop()
        let errors = Dictionary(uniqueKeysWithValues: store.read().entries.map { ($0.snapshot.name, $0.snapshot.health("config")?.error?.code) })
        #expect(errors["untrusted"] == "tls_error")
        #expect(errors["refused"] == "connection_failed")
        // An HTTP request to a TLS port gets no valid HTTP response back.
        #expect(["invalid_response", "connection_failed"].contains(errors["plain-http"] ?? nil), "\(String(describing: errors["plain-http"]))")
        #expect(cluster.requestCount == 0)
    }
}

enum Promtool {
    /// Runs `promtool check metrics` on `text`; the test command installs promtool.
    static func checkMetrics(_ text: String) async throws -> (Int32, String) {
        try await Subprocess.run(["promtool", "check", "metrics"], input: text, allowFailure: true)
    }
}

enum FreePort {
    /// A loopback port nothing listens on: bound once to learn a free number, then closed.
    static func reserve() throws -> Int {
        let (fd, port) = try bind()
        close(fd)
        return port
    }

    /// A free loopback port below the kernel's ephemeral range (32768 and up here), for a
    /// server another process starts later: outgoing connections, which take ephemeral ports
    /// all the time under a parallel test run, cannot take it in between.
    static func reserveForChildProcess() throws -> Int {
        for _ in 0..<100 {
            let port = Int.random(in: 20000..<32000)
            if let (fd, bound) = try? bind(port: port) {
                close(fd)
                return bound
            }
        }
        throw HarnessError("no free port in 20000..<32000")
    }

    /// A TCP socket bound to a free loopback port (`port`, or any when 0).
    static func bind(port: Int = 0) throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw HarnessError("cannot bind a loopback socket")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
