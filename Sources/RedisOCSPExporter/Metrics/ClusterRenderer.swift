import RedisSoftwareAPI
/// One cluster's samples in exposition format, one byte run per `ClusterFamily`. Rendered once
/// per snapshot, so a scrape only concatenates.
public struct RenderedCluster: Sendable {
    public var families: [[UInt8]]

    public init(_ snapshot: ClusterSnapshot, alerts: [Alert]) {
        var families = [[UInt8]](repeating: [], count: ClusterFamily.allCases.count)
        let base = [("cluster", snapshot.name)] + snapshot.labels.map { ($0.name, $0.value) }
        func write(_ family: ClusterFamily, _ body: (inout SampleWriter) -> Void) {
            var writer = SampleWriter(baseLabels: base)
            body(&writer)
            families[family.rawValue] = writer.bytes
        }
        func gauge(_ family: ClusterFamily, _ value: Double?) {
            guard let value else { return }
            write(family) { $0.sample(family.name, [], value) }
        }

        if let config = snapshot.config {
            gauge(.enabled, config.enabled ? 1 : 0)
            gauge(.responderURLConfigured, config.hasResponderURL ? 1 : 0)
            write(.configInfo) { $0.sample(ClusterFamily.configInfo.name, [("responder_url", config.responderURL ?? "")], 1) }
            gauge(.queryFrequency, config.queryFrequency.map(Double.init))
            gauge(.responseTimeout, config.responseTimeout.map(Double.init))
            gauge(.recoveryFrequency, config.recoveryFrequency.map(Double.init))
            gauge(.recoveryMaxTries, config.recoveryMaxTries.map(Double.init))
        }
        if let status = snapshot.status {
            write(.certStatus) { $0.stateSet(ClusterFamily.certStatus.name, [], status.certStatus) }
            gauge(.producedAt, status.producedAt.map(Double.init))
            gauge(.thisUpdate, status.thisUpdate.map(Double.init))
            gauge(.nextUpdate, status.nextUpdate.map(Double.init))
            gauge(.revocationTime, status.revocationTime.map(Double.init))
        }
        gauge(.supported, snapshot.supported.map { $0 ? 1 : 0 })
        if let nodes = snapshot.nodes {
            write(.nodeInfo) { w in
                for node in nodes.sorted(by: { $0.uid < $1.uid }) {
                    w.sample(ClusterFamily.nodeInfo.name, [
                        ("node", String(node.uid)), ("addr", node.addr), ("software_version", node.softwareVersion),
                        ("node_status", node.status),
                    ], 1)
                }
            }
            gauge(.nodes, Double(nodes.count))
        }

        let polled = snapshot.endpoints.filter(\.polled)
        func perEndpoint(_ family: ClusterFamily, _ body: (inout SampleWriter, EndpointHealth, [(String, String)]) -> Void) {
            write(family) { w in
                for health in polled { body(&w, health, [("endpoint", health.endpoint.rawValue)]) }
            }
        }
        perEndpoint(.apiUp) { w, h, l in w.sample(ClusterFamily.apiUp.name, l, h.up ? 1 : 0) }
        perEndpoint(.apiError) { w, h, l in
            if let error = h.error { w.sample(ClusterFamily.apiError.name, l + [("error_code", error.code)], 1) }
        }
        perEndpoint(.apiErrorsTotal) { w, h, l in
            for (code, count) in h.errorsTotal.sorted(by: { $0.key < $1.key }) {
                w.sample(ClusterFamily.apiErrorsTotal.name, l + [("error_code", code)], Double(count))
            }
        }
        perEndpoint(.apiRequestDuration) { w, h, l in w.histogram(ClusterFamily.apiRequestDuration.name, l, h.latency) }
        perEndpoint(.lastSuccess) { w, h, l in
            if let at = h.lastSuccess { w.sample(ClusterFamily.lastSuccess.name, l, at) }
        }
        for (family, bytes) in Self.renderStapling(snapshot.stapling, base: base) { families[family.rawValue] = bytes }
        write(.alerts) { w in
            for alert in alerts {
                // cluster and the static labels are in the base labels already.
                let own = alert.labels.filter { label in label.name != "cluster" && !snapshot.labels.contains { $0.name == label.name } }
                var labels = own.map { ($0.name, $0.value) }
                labels.insert(("alertstate", alert.state.rawValue), at: labels.firstIndex { $0.0 > "alertstate" } ?? labels.count)
                w.sample(ClusterFamily.alerts.name, labels, 1)
            }
        }
        self.families = families
    }

    /// The stapling probe's families. A failed probe leaves only success, duration and the
    /// error: what an earlier handshake showed is not served as current.
    private static func renderStapling(_ states: [StaplingProbeState], base: [(String, String)]) -> [(ClusterFamily, [UInt8])] {
        let probed = states.filter { $0.result != nil }
        var rendered: [(ClusterFamily, [UInt8])] = []
        func each(_ family: ClusterFamily, _ body: (inout SampleWriter, StaplingProbeState, [(String, String)]) -> Void) {
            var writer = SampleWriter(baseLabels: base)
            for state in probed { body(&writer, state, [("endpoint", state.endpoint)]) }
            rendered.append((family, writer.bytes))
        }
        func value(_ family: ClusterFamily, _ pick: (Handshake) -> Double?) {
            each(family) { w, state, labels in
                if let handshake = state.handshake, let value = pick(handshake) { w.sample(family.name, labels, value) }
            }
        }
        each(.staplingProbeSuccess) { w, s, l in w.sample(ClusterFamily.staplingProbeSuccess.name, l, s.handshake != nil ? 1 : 0) }
        each(.staplingProbeDuration) { w, s, l in w.sample(ClusterFamily.staplingProbeDuration.name, l, s.duration ?? 0) }
        each(.staplingProbeError) { w, s, l in
            if let error = s.error { w.sample(ClusterFamily.staplingProbeError.name, l + [("error_code", error.code)], 1) }
        }
        each(.staplingProbeErrorsTotal) { w, s, l in
            for (code, count) in s.errorsTotal.sorted(by: { $0.key < $1.key }) {
                w.sample(ClusterFamily.staplingProbeErrorsTotal.name, l + [("error_code", code)], Double(count))
            }
        }
        value(.tlsCertNotAfter) { $0.leafNotAfter.map(Double.init) }
        value(.stapledPresent) { $0.staple != nil ? 1 : 0 }
        value(.stapledVerified) { $0.staple?.verified == true ? 1 : 0 }
        each(.stapledCertStatus) { w, s, l in
            if let status = s.handshake?.staple?.certStatus { w.stateSet(ClusterFamily.stapledCertStatus.name, l, status) }
        }
        value(.stapledProducedAt) { $0.staple?.producedAt.map(Double.init) }
        value(.stapledThisUpdate) { $0.staple?.thisUpdate.map(Double.init) }
        value(.stapledNextUpdate) { $0.staple?.nextUpdate.map(Double.init) }
        value(.stapledRevocationTime) { $0.staple?.revocationTime.map(Double.init) }
        return rendered
    }
}

extension SampleWriter {
    /// A state set over GOOD, REVOKED and UNKNOWN: the current status 1, the others 0.
    mutating func stateSet(_ name: String, _ labels: [(String, String)], _ current: OCSPStatus.CertStatus) {
        for candidate in OCSPStatus.CertStatus.allCases {
            sample(name, labels + [("status", candidate.rawValue)], candidate == current ? 1 : 0)
        }
    }
}
