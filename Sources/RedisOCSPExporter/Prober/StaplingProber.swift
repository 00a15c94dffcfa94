import Logging

/// Probes one cluster's TLS endpoints on the probe's interval and publishes their results.
/// Runs beside the cluster's REST poller: the API says what the cluster cached, this says
/// what clients are handed.
struct StaplingProber: Sendable {
    let cluster: String
    let config: StaplingProbeConfig
    let publish: @Sendable ([StaplingProbeState]) -> Void
    let logger: Logger
    /// The states to continue from: a restarted prober keeps its counters.
    let start: [StaplingProbeState]

    func run() async {
        var states = start
        let schedule = PollSchedule(name: cluster + "/stapling", interval: config.interval)
        do {
            try await Task.sleep(until: schedule.firstPoll(), clock: .continuous)
            while true {
                states = await probeRound(after: states)
                publish(states)
                try await Task.sleep(until: schedule.next(after: .now), clock: .continuous)
            }
        } catch {
            // Cancellation: the exporter is shutting down or the cluster changed.
        }
    }

    /// Every endpoint at once, so one hung endpoint delays nothing but its own result.
    func probeRound(after previous: [StaplingProbeState]) async -> [StaplingProbeState] {
        var states = config.endpoints.map { endpoint in
            previous.first { $0.endpoint == endpoint.label } ?? StaplingProbeState(endpoint: endpoint.label)
        }
        let config = self.config
        await withTaskGroup(of: (Int, Result<Handshake, APIFailure>, Double).self) { group in
            for (index, endpoint) in config.endpoints.enumerated() {
                group.addTask {
                    let (result, duration) = await StaplingProbe.run(endpoint, config: config)
                    return (index, result, duration)
                }
            }
            for await (index, result, duration) in group {
                let before = states[index]
                states[index].record(result, duration: duration)
                logTransition(from: before, to: states[index])
            }
        }
        return states
    }

    /// Logs changes only, so an endpoint that stays broken writes one line, not one per probe.
    private func logTransition(from before: StaplingProbeState, to after: StaplingProbeState) {
        var metadata: Logger.Metadata = ["cluster": "\(cluster)", "endpoint": "\(after.endpoint)"]
        if let error = after.error {
            guard error != before.error else { return }
            metadata["error_code"] = "\(error.code)"
            metadata["error"] = "\(error.message)"
            logger.warning("stapling probe failed", metadata: metadata)
            return
        }
        let (old, new) = (before.handshake?.staple, after.handshake?.staple)
        if new == nil, old != nil || before.result == nil || before.error != nil {
            logger.warning("no OCSP staple in the TLS handshake", metadata: metadata)
        } else if let new, let problem = new.problem, problem != old?.problem {
            metadata["problem"] = "\(problem)"
            logger.warning("stapled OCSP response does not verify", metadata: metadata)
        } else if new?.verified == true, old?.verified != true {
            logger.info("stapled OCSP response verifies", metadata: metadata)
        }
    }
}
