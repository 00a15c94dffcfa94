import FoundationEssentials
import RedisSoftwareAPI

/// The responder itself: the cluster asks it every query_frequency and, while it fails,
/// staples its cached answer until next_update. This check asks it directly, on its own
/// interval, about the certificate a handshake with the first answering stapling endpoint
/// shows (`OCSPResponderClient`), so a dead or lying responder is seen before clients see it.
struct ResponderProbeCheck: Check {
    let id = "responder"
    static var state: WritableKeyPath<CheckStates, ResponderProbeState?> { \.responder }
    let families: [ClusterFamily] = [
        .responderUp, .responderDuration, .responderCertStatus, .responderThisUpdate, .responderNextUpdate, .responderRevocationTime,
        .responderError, .responderErrorsTotal, .responderFailingSince,
    ]

    func schedule(for cluster: ClusterConfig) -> CheckSchedule? {
        cluster.responderProbe.map { .own(interval: $0.interval) }
    }

    func initialState(for cluster: ClusterConfig) -> ResponderProbeState { ResponderProbeState() }

    func run(_ context: CheckContext, previous: ResponderProbeState, seen: CheckStates) async throws -> ResponderProbeState {
        guard let probe = context.cluster.responderProbe, let stapling = context.cluster.staplingProbe else { return previous }
        var certificates: SeenCertificates?
        var why = CheckFailure(code: OCSPResponderClient.Code.noCertificate, message: "no stapling endpoint completed a handshake")
        for endpoint in stapling.endpoints {
            let (result, _) = await StaplingProbe.run(endpoint, config: stapling, keepCertificates: true)
            try Task.checkCancellation()
            if case .success(let handshake) = result {
                certificates = handshake.certificates
                if certificates != nil { break }
                why = CheckFailure(code: OCSPResponderClient.Code.noIssuer,
                                   message: "\(endpoint) does not send the issuer of its certificate and ca_file does not hold it")
            }
        }
        let cached = seen.config?.value?.responderURL.flatMap { $0.isEmpty ? nil : $0 }
        let url = probe.url ?? certificates?.ocspURL ?? cached
        var next = previous
        next.start(responder: url.map(ResponderProbeState.label) ?? previous.responder)
        guard let certificates else {
            next.record(.failure(why), asked: false, at: context.now())
            return log(previous, next, context)
        }
        guard let url else {
            next.record(.failure(CheckFailure(code: OCSPResponderClient.Code.noResponderURL,
                                              message: "the certificate names no OCSP responder and the cluster reports no responder_url")),
                        asked: false, at: context.now())
            return log(previous, next, context)
        }
        guard let scheme = URLComponents(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            next.record(.failure(CheckFailure(code: OCSPResponderClient.Code.unsupportedURL, message: "not an http or https URL")),
                        asked: false, at: context.now())
            return log(previous, next, context)
        }
        let start = ContinuousClock.now
        let answer = try await OCSPResponderClient.ask(url, about: certificates, timeout: probe.timeout)
        next.latency.observe((ContinuousClock.now - start).seconds)
        next.record(answer, asked: true, at: context.now())
        return log(previous, next, context)
    }

    private func log(_ before: ResponderProbeState, _ after: ResponderProbeState, _ context: CheckContext) -> ResponderProbeState {
        logTransition(context.logger, cluster: context.cluster.name, check: id, endpoint: after.responder, from: before.error, to: after.error)
        return after
    }

    func render(_ state: ResponderProbeState, into samples: inout ClusterSamples) {
        guard let result = state.result else { return }
        let labels = [("responder", state.responder)]
        samples.gauge(.responderUp, labels: labels, state.error == nil ? 1 : 0)
        if state.latency.count > 0 { samples.write(.responderDuration) { $0.histogram(ClusterFamily.responderDuration.name, labels, state.latency) } }
        if case .success(let answer) = result {
            if let status = answer.certStatus { samples.write(.responderCertStatus) { $0.stateSet(ClusterFamily.responderCertStatus.name, labels, status) } }
            samples.gauge(.responderThisUpdate, labels: labels, answer.thisUpdate.map(Double.init))
            samples.gauge(.responderNextUpdate, labels: labels, answer.nextUpdate.map(Double.init))
            samples.gauge(.responderRevocationTime, labels: labels, answer.revocationTime.map(Double.init))
        }
        if let error = state.error { samples.gauge(.responderError, labels: labels + [("error_code", error.code)], 1) }
        samples.write(.responderErrorsTotal) { w in
            for (code, count) in state.errorsTotal.sorted(by: { $0.key < $1.key }) {
                w.sample(ClusterFamily.responderErrorsTotal.name, labels + [("error_code", code)], Double(count))
            }
        }
        samples.gauge(.responderFailingSince, labels: labels, state.failingSince)
    }
}

/// The latest answer of the cluster's responder and its statistics.
struct ResponderProbeState: Sendable {
    /// The responder's URL, as the `responder` label shows it.
    var responder = ""
    /// nil before the first run.
    var result: Result<Staple, CheckFailure>?
    var latency = Histogram()
    /// Failed runs by error_code, since the responder was first asked.
    var errorsTotal: [String: UInt64] = [:]
    /// When the current run of failed requests to the responder began; nil while it answers,
    /// and never set by a run that could not ask it (no certificate, no URL).
    var failingSince: Double?

    var answer: Staple? { try? result?.get() }
    var error: CheckFailure? {
        if case .failure(let failure)? = result { failure } else { nil }
    }

    /// A URL a server may have supplied (the certificate's), fit for a label.
    static func label(_ url: String) -> String { String(url.prefix(256)).escapingControlCharacters }

    /// Another responder starts afresh: its statistics are not the old one's.
    mutating func start(responder label: String) {
        guard label != responder else { return }
        self = ResponderProbeState()
        responder = label
    }

    mutating func record(_ result: Result<Staple, CheckFailure>, asked: Bool, at now: Double) {
        self.result = result
        switch result {
        case .success: failingSince = nil
        case .failure(let failure):
            errorsTotal[failure.code, default: 0] += 1
            if asked { failingSince = failingSince ?? now }
        }
    }
}

extension ClusterSnapshot {
    var responder: ResponderProbeState? { checks.responder }
}

extension ClusterFamily {
    static let responderUp = ClusterFamily("redis_ocsp_responder_up", .gauge, "1 if the responder's latest answer was a well-formed OCSP response for the certificate, signed as it must be, else 0.")
    static let responderDuration = ClusterFamily("redis_ocsp_responder_request_duration_seconds", .histogram, "OCSP responder request latency, body included.")
    static let responderCertStatus = ClusterFamily("redis_ocsp_responder_cert_status", .gauge, "Certificate status in the responder's latest answer: 1 for the current status, 0 for the others.")
    static let responderThisUpdate = ClusterFamily("redis_ocsp_responder_this_update_timestamp_seconds", .gauge, "thisUpdate of the responder's latest answer, as Unix time.")
    static let responderNextUpdate = ClusterFamily("redis_ocsp_responder_next_update_timestamp_seconds", .gauge, "nextUpdate of the responder's latest answer, as Unix time.")
    static let responderRevocationTime = ClusterFamily("redis_ocsp_responder_revocation_timestamp_seconds", .gauge, "revocationTime of the responder's latest answer, as Unix time; present only for a revoked certificate.")
    static let responderError = ClusterFamily("redis_ocsp_responder_error", .gauge, "1 for the current error of the responder probe, by error_code; absent while the responder answers.")
    static let responderErrorsTotal = ClusterFamily("redis_ocsp_responder_errors_total", .counter, "Failed responder probes, by responder and error_code.")
    static let responderFailingSince = ClusterFamily("redis_ocsp_responder_failing_since_timestamp_seconds", .gauge, "When the current run of failed requests to the responder began, as Unix time; absent while it answers.")
}
