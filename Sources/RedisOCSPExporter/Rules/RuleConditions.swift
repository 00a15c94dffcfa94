/// A rule's condition holding for a cluster: one future alert.
struct AlertCondition: Sendable {
    var rule: RuleName
    /// Labels that tell several alerts of one rule apart (the endpoint of RedisOCSPAPIDown).
    var labels: [(String, String)] = []
    /// The `$value` of the alert, as the equivalent PromQL expression would give it.
    var value: Double
    /// Annotations only the built-in evaluator can add (it sees the whole snapshot).
    var extraAnnotations: [String: String] = [:]
}

extension RuleName {
    /// Error codes that are OCSP states with rules of their own, not an API outage.
    static let codesNotCountedAsDown: Set<String> = [CheckFailure.unsupported, "no_responder_url"]
    /// The nodes an annotation names before it only counts the rest.
    static let maxNodesNamed = 20

    /// Where this rule's condition holds for `snapshot` at `now` (Unix seconds). Each case
    /// mirrors the expression of the same alert in alerts/redis-ocsp.rules.yml.
    func conditions(_ snapshot: ClusterSnapshot, now: Double, settings: RuleSettings) -> [AlertCondition] {
        switch self {
        case .disabled:
            guard let config = snapshot.config, !config.enabled else { return [] }
            return [AlertCondition(rule: self, value: 0)]
        case .unsupportedNodes:
            guard snapshot.supported == false else { return [] }
            let nodes = (snapshot.nodes ?? []).sorted { $0.uid < $1.uid }
            let named = settings.minSoftwareVersion.map { minimum in
                nodes.filter { Self.compareVersions($0.softwareVersion, minimum) < 0 }
            } ?? nodes
            // An annotation travels in every notification: it names a few nodes, then counts.
            var list = named.prefix(Self.maxNodesNamed).map { "node \($0.uid) (\($0.addr)): \($0.softwareVersion.isEmpty ? "unknown version" : $0.softwareVersion)" }
            if named.count > Self.maxNodesNamed { list.append("and \(named.count - Self.maxNodesNamed) more") }
            if let total = snapshot.nodeCount, total > nodes.count { list.append("\(total - nodes.count) nodes not kept") }
            let heading = settings.minSoftwareVersion.map { "nodes below \($0)" } ?? "node versions"
            return [AlertCondition(rule: self, value: 0, extraAnnotations: ["nodes": list.isEmpty ? "\(heading): none known" : "\(heading): " + list.joined(separator: ", ")])]
        case .noResponderURL:
            let missing = snapshot.config.map { $0.enabled && !$0.hasResponderURL } ?? false
            let answered = snapshot.endpoints.contains { $0.error?.code == "no_responder_url" }
            return missing || answered ? [AlertCondition(rule: self, value: 0)] : []
        case .certRevoked:
            let reported = snapshot.status?.certStatus == .revoked || snapshot.clusterReports("cluster_ocsp_status_revoked")
            return reported ? [AlertCondition(rule: self, value: 1)] : []
        case .certStatusUnknown:
            return snapshot.status?.certStatus == .unknown ? [AlertCondition(rule: self, value: 1)] : []
        // A cluster with OCSP off staples nothing: the age of its cached answer does not
        // matter to clients (RedisOCSPDisabled says what does).
        case .responseStale:
            guard snapshot.config?.enabled == true, let next = snapshot.status?.nextUpdate, now - Double(next) > 0 else { return [] }
            return [AlertCondition(rule: self, value: now - Double(next))]
        case .responseExpiringSoon:
            guard snapshot.config?.enabled == true, let next = snapshot.status?.nextUpdate else { return [] }
            let left = Double(next) - now
            return left >= 0 && left < settings.threshold.seconds(for: snapshot.config) ? [AlertCondition(rule: self, value: left)] : []
        case .queryFailing:
            return snapshot.clusterReports("cluster_ocsp_query_failed") ? [AlertCondition(rule: self, value: 1)] : []
        case .clusterCertificateExpiring:
            // As `or` in PromQL: the served certificates' time left, else the cluster's own alerts.
            let threshold = settings.threshold.seconds(for: snapshot.config)
            if let left = snapshot.stapling.compactMap({ $0.handshake?.leafNotAfter }).min().map({ Double($0) - now }), left < threshold {
                return [AlertCondition(rule: self, value: left)]
            }
            let reported = snapshot.clusterReports("cluster_certs_about_to_expire") || snapshot.clusterReports("cluster_ca_cert_about_to_expire")
            return reported ? [AlertCondition(rule: self, value: 1)] : []
        case .apiDown:
            return snapshot.endpoints.compactMap { health in
                guard let error = health.error, !Self.codesNotCountedAsDown.contains(error.code) else { return nil }
                return AlertCondition(rule: self, labels: [("endpoint", health.endpoint)], value: 0,
                                      extraAnnotations: ["error_code": error.code])
            }
        case .stapleMissing:
            guard snapshot.config?.enabled == true else { return [] }
            return snapshot.stapling.compactMap { probe in
                guard let handshake = probe.handshake, handshake.staple == nil else { return nil }
                return AlertCondition(rule: self, labels: [("endpoint", probe.endpoint)], value: 0)
            }
        case .stapleInvalid:
            return snapshot.stapling.compactMap { probe in
                guard let staple = probe.handshake?.staple, !staple.verified else { return nil }
                return AlertCondition(rule: self, labels: [("endpoint", probe.endpoint)], value: 0,
                                      extraAnnotations: ["problem": staple.problem ?? "unknown"])
            }
        case .stapleMismatch:
            guard let api = snapshot.status else { return [] }
            return snapshot.stapling.compactMap { probe in
                guard let staple = probe.handshake?.staple, staple.verified else { return nil }
                // The value: 1 for a differing status, else how many seconds the staple lags.
                if let stapled = staple.certStatus, stapled != api.certStatus {
                    return AlertCondition(rule: self, labels: [("endpoint", probe.endpoint)], value: 1,
                                          extraAnnotations: ["stapled_status": stapled.rawValue, "api_status": api.certStatus.rawValue])
                }
                guard let stapledNext = staple.nextUpdate, let apiNext = api.nextUpdate, apiNext > stapledNext else { return nil }
                return AlertCondition(rule: self, labels: [("endpoint", probe.endpoint)], value: Double(apiNext - stapledNext))
            }
        case .stapleStale:
            return snapshot.stapling.compactMap { probe in
                guard let next = probe.handshake?.staple?.nextUpdate, now - Double(next) > 0 else { return nil }
                return AlertCondition(rule: self, labels: [("endpoint", probe.endpoint)], value: now - Double(next))
            }
        }
    }

    /// Orders Redis Software versions such as "7.8.2-34" by their numeric parts.
    static func compareVersions(_ a: String, _ b: String) -> Int {
        func parts(_ v: String) -> [Int] { v.split(whereSeparator: { $0 == "." || $0 == "-" }).map { Int($0) ?? 0 } }
        let (x, y) = (parts(a), parts(b))
        for i in 0..<max(x.count, y.count) {
            let (p, q) = (i < x.count ? x[i] : 0, i < y.count ? y[i] : 0)
            if p != q { return p < q ? -1 : 1 }
        }
        return 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
