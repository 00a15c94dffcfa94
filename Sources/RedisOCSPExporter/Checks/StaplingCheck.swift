import Logging
import RedisSoftwareAPI
import YAML

/// The stapled view: a TLS handshake with each configured endpoint, as a client that asks
/// for stapling makes it (`StaplingProbe`). The REST checks say what the cluster cached;
/// this says what clients are handed.
struct StaplingCheck: Check {
    let id = "stapling"
    static var state: WritableKeyPath<CheckStates, [StaplingProbeState]?> { \.stapling }
    let families: [ClusterFamily] = [
        .staplingProbeSuccess, .staplingProbeDuration, .staplingProbeError, .staplingProbeErrorsTotal, .tlsCertNotAfter, .tlsCertInfo, .tlsChainVerified,
        .stapledPresent, .stapledVerified, .stapledCertStatus, .stapledProducedAt, .stapledThisUpdate, .stapledNextUpdate,
        .stapledRevocationTime, .stapledSignerNotAfter, .stapledSignerDelegated,
    ]

    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.staplingProbe.map { .own(interval: $0.interval) }
    }

    func initialState(for cluster: ClusterConfig) -> [StaplingProbeState] {
        (cluster.staplingProbe?.endpoints ?? []).map { StaplingProbeState(endpoint: $0.description) }
    }

    /// Every endpoint at once, so one hung endpoint delays nothing but its own result.
    func run(_ context: CheckContext, previous: [StaplingProbeState], seen: CheckStates) async throws -> [StaplingProbeState] {
        guard let config = context.cluster.staplingProbe else { return [] }
        var states = config.endpoints.map { endpoint in
            previous.first { $0.endpoint == endpoint.description } ?? StaplingProbeState(endpoint: endpoint.description)
        }
        await withTaskGroup(of: (Int, Result<Handshake, CheckFailure>, Double).self) { group in
            for (index, endpoint) in config.endpoints.enumerated() {
                group.addTask {
                    let (result, duration) = await StaplingProbe.run(endpoint, config: config)
                    return (index, result, duration)
                }
            }
            for await (index, result, duration) in group {
                let before = states[index]
                states[index].record(result, duration: duration)
                logChanges(from: before, to: states[index], context: context)
            }
        }
        try Task.checkCancellation()
        return states
    }

    private func logChanges(from before: StaplingProbeState, to after: StaplingProbeState, context: CheckContext) {
        let cluster = context.cluster.name
        logTransition(context.logger, cluster: cluster, check: id, endpoint: after.endpoint, from: before.error, to: after.error)
        guard after.error == nil else { return }
        var metadata: Logger.Metadata = ["cluster": "\(cluster)", "endpoint": "\(after.endpoint)"]
        let (old, new) = (before.handshake?.staple, after.handshake?.staple)
        if new == nil, old != nil || before.result == nil || before.error != nil {
            context.logger.warning("no OCSP staple in the TLS handshake", metadata: metadata)
        } else if let new, let problem = new.problem, problem != old?.problem {
            metadata["problem"] = "\(problem)"
            context.logger.warning("stapled OCSP response does not verify", metadata: metadata)
        } else if new?.verified == true, old?.verified != true {
            context.logger.info("stapled OCSP response verifies", metadata: metadata)
        }
    }

    /// A failed probe leaves only success, duration and the error: what an earlier handshake
    /// showed is not served as current.
    func render(_ states: [StaplingProbeState], into samples: inout ClusterSamples) {
        let probed = states.filter { $0.result != nil }
        func each(_ family: ClusterFamily, _ body: (inout SampleWriter, StaplingProbeState, [(String, String)]) -> Void) {
            samples.write(family) { w in
                for state in probed { body(&w, state, [("endpoint", state.endpoint)]) }
            }
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
        each(.tlsCertInfo) { w, s, l in
            if let sha256 = s.handshake?.leafSHA256 { w.sample(ClusterFamily.tlsCertInfo.name, l + [("sha256", sha256)], 1) }
        }
        value(.tlsChainVerified) { $0.chainVerified.map { $0 ? 1 : 0 } }
        value(.stapledPresent) { $0.staple != nil ? 1 : 0 }
        value(.stapledVerified) { $0.staple?.verified == true ? 1 : 0 }
        each(.stapledCertStatus) { w, s, l in
            if let status = s.handshake?.staple?.certStatus { w.stateSet(ClusterFamily.stapledCertStatus.name, l, status) }
        }
        value(.stapledProducedAt) { $0.staple?.producedAt.map(Double.init) }
        value(.stapledThisUpdate) { $0.staple?.thisUpdate.map(Double.init) }
        value(.stapledNextUpdate) { $0.staple?.nextUpdate.map(Double.init) }
        value(.stapledRevocationTime) { $0.staple?.revocationTime.map(Double.init) }
        value(.stapledSignerNotAfter) { $0.staple?.signerNotAfter.map(Double.init) }
        value(.stapledSignerDelegated) { $0.staple?.signerDelegated.map { $0 ? 1 : 0 } }
    }
}

/// The latest probe of one endpoint and its error counts.
struct StaplingProbeState: Sendable {
    /// host:port, the `endpoint` label.
    var endpoint: String
    /// nil before the first probe finished.
    var result: Result<Handshake, CheckFailure>?
    /// Seconds the latest probe took.
    var duration: Double?
    /// Failed probes by error_code, since the exporter started.
    var errorsTotal: [String: UInt64] = [:]

    init(endpoint: String) { self.endpoint = endpoint }

    var handshake: Handshake? { try? result?.get() }
    var error: CheckFailure? {
        if case .failure(let failure)? = result { failure } else { nil }
    }

    mutating func record(_ result: Result<Handshake, CheckFailure>, duration: Double) {
        self.result = result
        self.duration = duration
        if case .failure(let failure) = result { errorsTotal[failure.code, default: 0] += 1 }
    }
}

extension ClusterSnapshot {
    /// One entry per endpoint of the stapling probe, in configured order; empty without one.
    var stapling: [StaplingProbeState] { checks.stapling ?? [] }
}

extension ClusterFamily {
    static let staplingProbeSuccess = ClusterFamily("redis_ocsp_stapling_probe_success", .gauge, "1 if the TLS handshake with the endpoint completed (with or without a staple), else 0.")
    static let staplingProbeDuration = ClusterFamily("redis_ocsp_stapling_probe_duration_seconds", .gauge, "How long the latest stapling probe of the endpoint took, connect and handshake included.")
    static let staplingProbeError = ClusterFamily("redis_ocsp_stapling_probe_error", .gauge, "1 for the current error of the stapling probe, by error_code; absent while the handshake succeeds.")
    static let staplingProbeErrorsTotal = ClusterFamily("redis_ocsp_stapling_probe_errors_total", .counter, "Failed stapling probes, by endpoint and error_code.")
    static let tlsCertNotAfter = ClusterFamily("redis_ocsp_tls_cert_not_after_timestamp_seconds", .gauge, "notAfter of the certificate the endpoint serves, as Unix time.")
    static let tlsCertInfo = ClusterFamily("redis_ocsp_tls_cert_info", .gauge, "The certificate the endpoint serves, by the SHA-256 of its DER; always 1.")
    static let tlsChainVerified = ClusterFamily("redis_ocsp_tls_chain_verified", .gauge, "1 if the chain the endpoint served verifies against the stapling probe's ca_file, else 0; absent without ca_file.")
    static let stapledPresent = ClusterFamily("redis_ocsp_stapled_response_present", .gauge, "1 if the endpoint stapled an OCSP response into the handshake, else 0.")
    static let stapledVerified = ClusterFamily("redis_ocsp_stapled_response_verified", .gauge, "1 if the stapled response is for the served certificate and its signature verifies against the issuer, else 0.")
    static let stapledCertStatus = ClusterFamily("redis_ocsp_stapled_cert_status", .gauge, "Certificate status in the stapled OCSP response: 1 for the current status, 0 for the others.")
    static let stapledProducedAt = ClusterFamily("redis_ocsp_stapled_produced_at_timestamp_seconds", .gauge, "producedAt of the stapled OCSP response, as Unix time.")
    static let stapledThisUpdate = ClusterFamily("redis_ocsp_stapled_this_update_timestamp_seconds", .gauge, "thisUpdate of the stapled OCSP response, as Unix time.")
    static let stapledNextUpdate = ClusterFamily("redis_ocsp_stapled_next_update_timestamp_seconds", .gauge, "nextUpdate of the stapled OCSP response, as Unix time; clients reject the staple after it.")
    static let stapledRevocationTime = ClusterFamily("redis_ocsp_stapled_revocation_timestamp_seconds", .gauge, "revocationTime of the stapled OCSP response, as Unix time; present only for a revoked certificate.")
    static let stapledSignerNotAfter = ClusterFamily("redis_ocsp_stapled_signer_not_after_timestamp_seconds", .gauge, "notAfter of the certificate that signed the stapled response, as Unix time.")
    static let stapledSignerDelegated = ClusterFamily("redis_ocsp_stapled_signer_delegated", .gauge, "1 if a delegated responder certificate (id-kp-OCSPSigning) signed the stapled response, 0 if the issuer itself.")
}
