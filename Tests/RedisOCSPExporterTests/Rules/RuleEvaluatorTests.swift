import Foundation
import Logging
import NIOConcurrencyHelpers
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// Every rule and every state transition, with time under the test's control.
@Suite(.tags(.unit))
struct RuleEvaluatorTests {
    static let t0 = 1_800_000_000.0

    func cluster(_ extra: String = "") throws -> ClusterConfig {
        try ConfigLoader.load(yaml: "clusters:\n  - name: c1\n    url: https://x\n    labels: {region: eu}\n\(extra)", source: "t").clusters[0]
    }

    func snapshot(
        config: OCSPConfig? = OCSPConfig(enabled: true, responderURL: "http://r", queryFrequency: 3600, responseTimeout: 1,
                                         recoveryFrequency: 60, recoveryMaxTries: 5),
        status: String? = "GOOD", nextUpdate: Double? = t0 + 7200, supported: Bool? = true, nodes: [ClusterNode]? = nil,
        errors: [String: String] = [:], polledAt: Double = t0
    ) throws -> ClusterSnapshot {
        var s = ClusterSnapshot(cluster: try cluster())
        s.polledAt = polledAt
        s.set(config, of: OCSPConfigCheck())
        s.set(status.map {
            OCSPStatus(rawCertStatus: $0, responderURL: nil, producedAt: nil, thisUpdate: nil,
                       nextUpdate: nextUpdate.map { Int64($0) }, revocationTime: nil, unparsedDates: [:])
        }, of: OCSPStatusCheck())
        s.supported = supported
        s.set(nodes.map(NodeList.init), of: NodesCheck())
        s.recordEndpoints(at: polledAt) { endpoint in
            errors[endpoint].map { Fetch<Int>(result: .failure(CheckFailure(code: $0, message: "m")), duration: 0.1) }
                ?? Fetch<Int>(result: .success(1), duration: 0.1)
        }
        return s
    }

    func evaluator(_ overrides: [Rule: RuleSettings] = [:], resend: Duration = .seconds(60)) -> RuleEngine {
        var logger = Logger(label: "t")
        logger.logLevel = .critical
        return RuleEngine(rules: RulesConfig(overrides: overrides), resendInterval: resend, logger: logger)
    }

    /// The rules that fired, but RedisOCSPClientsFailSoon, which joins the others whenever clients
    /// fail within a day (its own test is `clientsFailSoonNamesTheEarliestCause`).
    func names(_ alerts: [Alert], _ state: Alert.State? = nil) -> [String] {
        alerts.filter { (state == nil || $0.state == state) && $0.rule != .clientsFailSoon }.map(\.rule.name).sorted()
    }

    @Test func aHealthyClusterHasNoAlerts() throws {
        let outcome = evaluator().evaluate(try snapshot(), now: Self.t0)
        #expect(outcome.active.isEmpty)
        #expect(outcome.toSend.isEmpty)
    }

    @Test func eachRuleFiresOnItsCondition() throws {
        let cases: [(ClusterSnapshot, Rule)] = [
            (try snapshot(config: OCSPConfig(enabled: false, responderURL: "http://r")), .disabled),
            (try snapshot(config: nil, status: nil, supported: false, errors: ["config": CheckFailure.unsupported, "status": CheckFailure.unsupported]), .unsupportedNodes),
            (try snapshot(config: OCSPConfig(enabled: true, responderURL: "")), .noResponderURL),
            (try snapshot(status: nil, errors: ["status": "no_responder_url"]), .noResponderURL),
            (try snapshot(status: "REVOKED"), .certRevoked),
            (try snapshot(status: "UNKNOWN"), .certStatusUnknown),
            (try snapshot(status: "SOMETHING"), .certStatusUnknown),
            (try snapshot(nextUpdate: Self.t0 - 1), .responseStale),
            (try snapshot(nextUpdate: Self.t0 + 1800), .responseExpiringSoon),
            (try snapshot(config: nil, errors: ["config": "timeout"]), .apiDown),
        ]
        for (snapshot, rule) in cases {
            // Far enough apart that every `for` has elapsed.
            let e = evaluator()
            _ = e.evaluate(snapshot, now: Self.t0)
            let outcome = e.evaluate(snapshot, now: Self.t0 + 601)
            #expect(names(outcome.active, .firing) == [rule.name], "\(rule.name)")
        }
    }

    @Test func unsupportedAndNoResponderURLDoNotCountAsAPIDown() throws {
        let e = evaluator()
        let s = try snapshot(config: nil, status: nil, supported: false,
                             errors: ["config": CheckFailure.unsupported, "status": "no_responder_url"])
        _ = e.evaluate(s, now: Self.t0)
        #expect(!names(e.evaluate(s, now: Self.t0 + 3600).active).contains(Rule.apiDown.name))
    }

    @Test func pendingThenFiringThenResolved() throws {
        let e = evaluator()
        let disabled = try snapshot(config: OCSPConfig(enabled: false, responderURL: "http://r"))
        var outcome = e.evaluate(disabled, now: Self.t0)
        #expect(outcome.active.map(\.state) == [.pending])
        #expect(outcome.toSend.isEmpty)
        outcome = e.evaluate(disabled, now: Self.t0 + 299)
        #expect(outcome.active.map(\.state) == [.pending])
        outcome = e.evaluate(disabled, now: Self.t0 + 300)
        #expect(outcome.active.map(\.state) == [.firing])
        #expect(outcome.toSend.map(\.state) == [.firing])
        #expect(outcome.active[0].activeAt == Self.t0)
        // Not re-sent before the resend interval, then re-sent.
        #expect(e.evaluate(disabled, now: Self.t0 + 330).toSend.isEmpty)
        #expect(e.evaluate(disabled, now: Self.t0 + 360).toSend.count == 1)
        // Condition gone: resolved, sent once with the resolve time, no longer active.
        let healthy = try snapshot(polledAt: Self.t0 + 400)
        outcome = e.evaluate(healthy, now: Self.t0 + 400)
        #expect(outcome.active.isEmpty)
        #expect(outcome.toSend.map(\.state) == [.resolved])
        #expect(outcome.toSend.first?.resolvedAt == Self.t0 + 400)
        // Resolved alerts are re-sent for a while, then forgotten.
        #expect(e.evaluate(healthy, now: Self.t0 + 430).toSend.isEmpty)
        #expect(e.evaluate(healthy, now: Self.t0 + 460).toSend.map(\.state) == [.resolved])
        _ = e.evaluate(healthy, now: Self.t0 + 400 + RuleEngine.resolvedRetention + 1)
        #expect(e.evaluate(healthy, now: Self.t0 + 400 + RuleEngine.resolvedRetention + 100).toSend.isEmpty)
    }

    @Test func aPendingAlertThatClearsIsNeverSent() throws {
        let e = evaluator()
        _ = e.evaluate(try snapshot(config: OCSPConfig(enabled: false)), now: Self.t0)
        let outcome = e.evaluate(try snapshot(polledAt: Self.t0 + 10), now: Self.t0 + 10)
        #expect(outcome.active.isEmpty)
        #expect(outcome.toSend.isEmpty)
    }

    @Test func timeAloneMovesTheTimeBasedRules() throws {
        let e = evaluator()
        let s = try snapshot(nextUpdate: Self.t0 + 5400)
        #expect(e.evaluate(s, now: Self.t0).active.isEmpty)
        // The same snapshot, re-evaluated on the timer: within the hour, then past next_update.
        #expect(names(e.evaluate(s, now: Self.t0 + 1800 + 1).active) == ["RedisOCSPResponseExpiringSoon"])
        let late = e.evaluate(s, now: Self.t0 + 5400 + 10)
        #expect(names(late.active, .firing) == ["RedisOCSPResponseStale"])
        #expect(late.active[0].value == 10)
        #expect(late.active[0].annotations["description"]?.hasPrefix("next_update passed 10 seconds ago") == true)
    }

    /// Snapshots are taken in the order the store stored them, whatever their poll time: a
    /// stapling round stores a newer snapshot with the same poll time.
    @Test func anOlderSnapshotDoesNotRollTheStateBack() throws {
        let e = evaluator()
        var newer = try snapshot(status: "REVOKED")
        newer.version = 2
        var older = try snapshot(status: "GOOD")
        older.version = 1
        _ = e.evaluate(newer, now: Self.t0 + 60)
        let outcome = e.evaluate(older, now: Self.t0 + 61)
        #expect(names(outcome.active) == ["RedisOCSPCertRevoked"])
        #expect(outcome.active.first?.activeAt == Self.t0 + 60)
        // The same snapshot again (the timer's re-evaluation) is taken.
        #expect(names(e.evaluate(newer, now: Self.t0 + 62).active) == ["RedisOCSPCertRevoked"])
    }

    @Test func settingsChangeSeverityForLabelsAnnotationsAndThreshold() throws {
        var expiring = RuleSettings(.responseExpiringSoon)
        expiring.threshold = .fixed(.seconds(7200))
        expiring.forDuration = .zero
        expiring.severity = "page"
        expiring.labels = [(name: "team", value: "storage")]
        expiring.annotations["runbook_url"] = "https://runbooks.example.com/ocsp#{{ $labels.cluster }}"
        var noResponder = RuleSettings(.noResponderURL)
        noResponder.enabled = false
        noResponder.forDuration = .zero
        let e = evaluator([.responseExpiringSoon: expiring, .noResponderURL: noResponder])
        let outcome = e.evaluate(try snapshot(config: OCSPConfig(enabled: true), nextUpdate: Self.t0 + 5000), now: Self.t0)
        #expect(names(outcome.active, .firing) == ["RedisOCSPResponseExpiringSoon"])
        let alert = try #require(outcome.active.first)
        #expect(alert.labels.map { "\($0.name)=\($0.value)" } == [
            "alertname=RedisOCSPResponseExpiringSoon", "cluster=c1", "region=eu", "severity=page", "team=storage",
        ])
        #expect(alert.annotations["runbook_url"] == "https://runbooks.example.com/ocsp#c1")
        #expect(alert.annotations["summary"] == "The cached OCSP answer of cluster c1 expires soon")
    }

    @Test func unsupportedNodesNamesTheOldNodes() throws {
        let nodes = [ClusterNode(uid: 1, addr: "10.0.0.1", status: "active", softwareVersion: "7.8.2-34"),
                     ClusterNode(uid: 2, addr: "10.0.0.2", status: "active", softwareVersion: "6.2.18-65")]
        var settings = RuleSettings(.unsupportedNodes)
        settings.minSoftwareVersion = "6.4"
        settings.forDuration = .zero
        let s = try snapshot(config: nil, status: nil, supported: false, nodes: nodes)
        let named = evaluator([.unsupportedNodes: settings]).evaluate(s, now: Self.t0).active.first
        #expect(named?.annotations["nodes"] == "nodes below 6.4: node 2 (10.0.0.2): 6.2.18-65")
        settings.minSoftwareVersion = nil
        let all = evaluator([.unsupportedNodes: settings]).evaluate(s, now: Self.t0).active.first
        #expect(all?.annotations["nodes"] == "node versions: node 1 (10.0.0.1): 7.8.2-34, node 2 (10.0.0.2): 6.2.18-65")
    }

    /// A cluster that lists 50,000 nodes (twice each) keeps 500 of them, counts all, and its
    /// alert names 20 and counts the rest.
    @Test func aHugeNodeListIsBoundedEverywhere() throws {
        let listed = (0..<50_000).flatMap { i in
            Array(repeating: ClusterNode(uid: Int64(i), addr: "10.0.\(i / 256).\(i % 256)", status: "active",
                                         softwareVersion: "6.2.18-65" + String(repeating: "x", count: 1000)), count: 2)
        }
        var s = try snapshot(config: nil, status: nil, supported: false)
        s.set(NodeList(listed), of: NodesCheck())
        #expect(s.nodes?.count == NodeList.maxKept)
        #expect(s.nodeCount == 50_000, "nodes are counted once per uid")
        #expect(s.nodes?.allSatisfy { $0.softwareVersion.count <= NodeList.maxFieldLength } == true)
        var settings = RuleSettings(.unsupportedNodes)
        settings.forDuration = .zero
        let alert = try #require(evaluator([.unsupportedNodes: settings]).evaluate(s, now: Self.t0).active.first)
        let annotation = try #require(alert.annotations["nodes"])
        #expect(annotation.contains("and \(NodeList.maxKept - Rule.maxNodesNamed) more"))
        #expect(annotation.contains("\(50_000 - NodeList.maxKept) nodes not kept"))
        #expect(annotation.utf8.count < 4096, "\(annotation.utf8.count) bytes")
        var samples = ClusterSamples(labels: [("cluster", "c1")])
        NodesCheck().render(answer: try #require(s.checks.nodes?.value), into: &samples)
        let text = String(decoding: ClusterFamily.allCases.flatMap { samples[$0] }, as: UTF8.self)
        #expect(text.components(separatedBy: "redis_ocsp_node_info{").count - 1 == NodeList.maxKept)
        #expect(text.contains("redis_ocsp_nodes{cluster=\"c1\"} 50000"))
    }

    @Test func apiDownIsPerEndpoint() throws {
        let e = evaluator()
        let s = try snapshot(config: nil, status: nil, errors: ["config": "http_500", "status": "timeout"])
        _ = e.evaluate(s, now: Self.t0)
        let firing = e.evaluate(s, now: Self.t0 + 600).active
        #expect(firing.compactMap { a in a.labels.first { $0.name == "endpoint" }?.value } == ["config", "status"])
        #expect(firing.first?.annotations["error_code"] == "http_500")
    }

    @Test(arguments: [(0.0, "0"), (60, "60"), (2640, "2640"), (123456, "123456"), (1e6, "1e+06"), (1234567, "1.234567e+06"),
                      (0.5, "0.5"), (0.0001, "0.0001"), (0.00001, "1e-05"), (-3.25, "-3.25"), (1199.592, "1199.592")])
    func valuesPrintAsPrometheusTemplatesPrintThem(_ value: Double, _ expected: String) {
        #expect(AnnotationTemplate.goFormat(value) == expected)
    }

    @Test func versionOrder() {
        #expect(SoftwareVersion.compare("7.8.2-34", "6.2.0") > 0)
        #expect(SoftwareVersion.compare("6.2.18-65", "6.4") < 0)
        #expect(SoftwareVersion.compare("7.8.2", "7.8.2-0") == 0)
        #expect(SoftwareVersion.compare("7.10.0", "7.8.9") > 0)
    }
}

/// The staple rules on snapshots with a stapling probe result, including where they must stay quiet.
extension RuleEvaluatorTests {
    func stapled(_ staple: Staple?, status: String? = "GOOD", nextUpdate: Double? = t0 + 7200, enabled: Bool = true,
                 failure: CheckFailure? = nil) throws -> ClusterSnapshot {
        var s = try snapshot(config: OCSPConfig(enabled: enabled, responderURL: "http://r"), status: status, nextUpdate: nextUpdate)
        var probe = StaplingProbeState(endpoint: "db:12000")
        probe.record(failure.map { .failure($0) } ?? .success(Handshake(leafNotAfter: nil, staple: staple)), duration: 0.01)
        s.checks.stapling = [probe]
        return s
    }

    func staple(verified: Bool = true, status: OCSPStatus.CertStatus = .good, nextUpdate: Double = t0 + 7200) -> Staple {
        Staple(verified: verified, problem: verified ? nil : "bad signature", certStatus: status, producedAt: nil, thisUpdate: nil,
               nextUpdate: Int64(nextUpdate), revocationTime: nil)
    }

    func fired(_ snapshot: ClusterSnapshot) -> [String] {
        let e = evaluator()
        _ = e.evaluate(snapshot, now: Self.t0 - 3600)
        return names(e.evaluate(snapshot, now: Self.t0).active, .firing).filter { $0.hasPrefix("RedisOCSPStaple") }
    }

    @Test func stapleRulesFireOnTheirConditionsOnly() throws {
        #expect(fired(try stapled(staple())) == [])
        #expect(fired(try stapled(nil)) == ["RedisOCSPStapleMissing"])
        // OCSP off is RedisOCSPDisabled's case, and a failed probe proves nothing.
        #expect(fired(try stapled(nil, enabled: false)) == [])
        #expect(fired(try stapled(nil, failure: CheckFailure(code: "timeout", message: "m"))) == [])
        #expect(fired(try stapled(staple(verified: false))) == ["RedisOCSPStapleInvalid"])
        #expect(fired(try stapled(staple(status: .revoked))) == ["RedisOCSPStapleMismatch"])
        #expect(fired(try stapled(staple(nextUpdate: Self.t0 + 3600))) == ["RedisOCSPStapleMismatch"])
        #expect(fired(try stapled(staple(nextUpdate: Self.t0 + 9000))) == [], "a staple newer than the API's answer is fine")
        // Mismatch needs a verified staple and a known API status.
        #expect(fired(try stapled(staple(verified: false, status: .revoked))) == ["RedisOCSPStapleInvalid"])
        #expect(fired(try stapled(staple(status: .revoked), status: nil)) == [])
        #expect(fired(try stapled(staple(nextUpdate: Self.t0 - 60), nextUpdate: Self.t0 - 60)) == ["RedisOCSPStapleStale"])
    }

    @Test func stapleAlertsCarryTheEndpointAndTheirValue() throws {
        let e = evaluator()
        let lagging = try stapled(staple(nextUpdate: Self.t0 + 3600))
        _ = e.evaluate(lagging, now: Self.t0 - 3600)
        let alert = try #require(e.evaluate(lagging, now: Self.t0).active.first { $0.rule == .stapleMismatch })
        #expect(alert.labels.contains { $0.name == "endpoint" && $0.value == "db:12000" })
        #expect(alert.value == 3600)
        let stale = try #require(evaluator().evaluate(try stapled(staple(nextUpdate: Self.t0 - 90)), now: Self.t0).active.first { $0.rule == .stapleStale })
        #expect(stale.value == 90)
        #expect(stale.annotations["summary"] == "db:12000 of cluster c1 staples an expired OCSP response")
        let invalid = try #require(evaluator().evaluate(try stapled(staple(verified: false)), now: Self.t0).active.first { $0.rule == .stapleInvalid })
        #expect(invalid.annotations["problem"] == "bad signature")
    }
}

/// The rules over what the cluster itself reports (GET /v1/cluster/alerts) and over the
/// certificates the probed endpoints serve.
extension RuleEvaluatorTests {
    func reporting(_ triggered: Set<String>, status: String? = "GOOD", notAfter: Double? = nil) throws -> ClusterSnapshot {
        var s = try snapshot(status: status)
        s.set(ClusterAlerts(alerts: Dictionary(uniqueKeysWithValues: ClusterAlerts.names.map {
            ($0, ClusterAlerts.Alert(triggered: triggered.contains($0), enabled: false, changeTime: nil))
        })), of: ClusterAlertsCheck())
        if let notAfter {
            var probe = StaplingProbeState(endpoint: "db:12000")
            probe.record(.success(Handshake(leafNotAfter: Int64(notAfter), staple: nil)), duration: 0.01)
            s.checks.stapling = [probe]
        }
        return s
    }

    func firing(_ snapshot: ClusterSnapshot, _ overrides: [Rule: RuleSettings] = [:]) -> [Alert] {
        let e = evaluator(overrides)
        _ = e.evaluate(snapshot, now: Self.t0 - 3600)
        return e.evaluate(snapshot, now: Self.t0).active.filter { $0.state == .firing && $0.rule != .stapleMissing && $0.rule != .clientsFailSoon }
    }

    /// The earliest foreseeable failure, and why: a revoked status now; a staple that expires
    /// while the cluster cannot refresh it; nothing foreseeable, nothing at all.
    @Test func clientsFailSoonNamesTheEarliestCause() throws {
        func failing(_ snapshot: ClusterSnapshot) -> [String] {
            evaluator().evaluate(snapshot, now: Self.t0).active.filter { $0.rule == .clientsFailSoon }.compactMap { $0.labels["reason"] }
        }
        #expect(failing(try snapshot()) == [])
        #expect(failing(try snapshot(status: "REVOKED")) == ["revoked"])
        // Where RedisOCSPCertRevoked sees it: the cluster's own alert counts as soon as the status.
        #expect(failing(try reporting(["cluster_ocsp_status_revoked"])) == ["revoked"])
        #expect(ClientsFailAt.earliest(try snapshot(status: "REVOKED"))?.at == Self.t0)
        // The cached answer expires in 2 hours: only while the cluster cannot refresh it.
        #expect(failing(try snapshot(nextUpdate: Self.t0 + 7200)) == [])
        #expect(failing(try reporting(["cluster_ocsp_query_failed"])) == ["staple_expires"])
        #expect(ClientsFailAt.earliest(try reporting(["cluster_ocsp_query_failed"]))?.at == Self.t0 + 7200)
        // A served certificate a week away is the moment, but not within the day.
        let week = try reporting([], notAfter: Self.t0 + 7 * 86_400)
        #expect(ClientsFailAt.earliest(week)?.reason == .certExpires)
        #expect(failing(week) == [])
    }

    @Test func theClustersOwnAlertsFireTheirRules() throws {
        #expect(names(firing(try reporting([]))) == [])
        #expect(names(firing(try reporting(["cluster_ocsp_query_failed"]))) == ["RedisOCSPQueryFailing"])
        #expect(names(firing(try reporting(["cluster_certs_about_to_expire"]))) == ["RedisClusterCertificateExpiring"])
        #expect(names(firing(try reporting(["cluster_ca_cert_about_to_expire"]))) == ["RedisClusterCertificateExpiring"])
        // A revoked status the cluster reports joins the API's own.
        #expect(names(firing(try reporting(["cluster_ocsp_status_revoked"]))) == ["RedisOCSPCertRevoked"])
        #expect(names(firing(try reporting(["cluster_ocsp_status_revoked"], status: nil))) == ["RedisOCSPCertRevoked"])
        #expect(firing(try reporting(["cluster_ocsp_status_revoked"], status: "REVOKED")).count == 1)
    }

    @Test func aServedCertificateCloserThanTheThresholdFires() throws {
        let day = 86_400.0
        #expect(names(firing(try reporting([], notAfter: Self.t0 + 31 * day))) == [])
        let expiring = firing(try reporting([], notAfter: Self.t0 + 29 * day))
        #expect(names(expiring) == ["RedisClusterCertificateExpiring"])
        #expect(expiring.first?.value == 29 * day)
        // The served certificate's time left wins over the cluster's own alert, as `or` in PromQL.
        #expect(firing(try reporting(["cluster_certs_about_to_expire"], notAfter: Self.t0 + day)).first?.value == day)
        #expect(firing(try reporting(["cluster_certs_about_to_expire"], notAfter: Self.t0 + 90 * day)).first?.value == 1)
        var settings = RuleSettings(.clusterCertificateExpiring)
        settings.threshold = .fixed(.seconds(7 * 86_400))
        #expect(names(firing(try reporting([], notAfter: Self.t0 + 8 * day), [.clusterCertificateExpiring: settings])) == [])
    }

    /// `threshold: auto` warns once the cluster has no full refresh-and-retry cycle left:
    /// query_frequency + recovery_frequency * recovery_max_tries (3600 + 60 * 5 here).
    @Test func autoThresholdIsOneRefreshAndRetryCycle() throws {
        var settings = RuleSettings(.responseExpiringSoon)
        settings.threshold = .auto
        settings.forDuration = .zero
        let e = evaluator([.responseExpiringSoon: settings])
        #expect(names(e.evaluate(try snapshot(nextUpdate: Self.t0 + 3899), now: Self.t0).active) == ["RedisOCSPResponseExpiringSoon"])
        #expect(names(evaluator([.responseExpiringSoon: settings]).evaluate(try snapshot(nextUpdate: Self.t0 + 3901), now: Self.t0).active) == [])
        // A configuration without those fields falls back to the fixed default of 1h.
        let bare = OCSPConfig(enabled: true, responderURL: "http://r")
        #expect(names(evaluator([.responseExpiringSoon: settings]).evaluate(try snapshot(config: bare, nextUpdate: Self.t0 + 3599), now: Self.t0).active) == ["RedisOCSPResponseExpiringSoon"])
        #expect(names(evaluator([.responseExpiringSoon: settings]).evaluate(try snapshot(config: bare, nextUpdate: Self.t0 + 3700), now: Self.t0).active) == [])
    }
}

/// A cluster with OCSP off staples nothing, so the age of its cached answer does not matter
/// to clients: RedisOCSPDisabled alone fires, and a revoked certificate still does.
extension RuleEvaluatorTests {
    @Test func staleAndExpiringAreGatedOnOCSPBeingEnabled() throws {
        let off = OCSPConfig(enabled: false, responderURL: "http://r")
        func fired(_ s: ClusterSnapshot) -> [String] {
            let e = evaluator()
            _ = e.evaluate(s, now: Self.t0)
            return names(e.evaluate(s, now: Self.t0 + 601).active, .firing)
        }
        #expect(fired(try snapshot(config: off, nextUpdate: Self.t0 - 3600)) == ["RedisOCSPDisabled"])
        #expect(fired(try snapshot(config: off, nextUpdate: Self.t0 + 1800)) == ["RedisOCSPDisabled"])
        #expect(fired(try snapshot(config: off, status: "REVOKED")) == ["RedisOCSPCertRevoked", "RedisOCSPDisabled"])
        // Unknown configuration: as in PromQL, where `and on (cluster) redis_ocsp_enabled == 1` finds nothing.
        #expect(fired(try snapshot(config: nil, nextUpdate: Self.t0 - 3600, errors: ["config": "timeout"])) == ["RedisOCSPAPIDown"])
    }
}

extension RuleEvaluatorTests {
    /// A log write that blocks (a stderr nobody reads) holds no lock the server's event loop
    /// takes: while the engine logs a transition, its state stays readable.
    @Test func loggingATransitionHoldsNoLock() async throws {
        let entered = Gate(), release = Gate()
        let logger = Logger(label: "t") { _ in
            ExporterLogHandler(label: "t", level: .info, format: .logfmt) { _ in
                entered.open()
                // Blocks this thread (not one of Swift concurrency's) as a full pipe would.
                let semaphore = DispatchSemaphore(value: 0)
                Task { await release.wait(); semaphore.signal() }
                semaphore.wait()
            }
        }
        defer { release.open() }
        let engine = RuleEngine(rules: RulesConfig(), resendInterval: .seconds(60), logger: logger)
        let revoked = try snapshot(status: "REVOKED")
        Thread { _ = engine.evaluate(revoked, now: Self.t0) }.start()
        await entered.wait()
        // Read on a thread of its own: with the lock held, this read would wait for the release.
        let read = NIOLockedValueBox(false)
        Thread { _ = engine.generation; _ = engine.alerts("c1"); read.withLockedValue { $0 = true } }.start()
        try await waitUntil("the engine's state to be read while a log line is being written") { read.withLockedValue { $0 } }
    }
}
