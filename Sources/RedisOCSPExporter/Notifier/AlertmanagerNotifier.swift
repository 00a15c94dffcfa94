import AsyncHTTPClient
import FoundationEssentials
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import NIOConcurrencyHelpers

/// Sends the evaluator's alerts to Alertmanager's v2 API. Callers only enqueue: a bounded
/// queue (oldest dropped first) decouples them from a slow or unreachable Alertmanager, and
/// a single sender posts batches to every configured Alertmanager, backing off while all fail.
final class AlertmanagerNotifier: Service, OwnMetricsSource {
    static let batchSize = 64

    private struct Settings {
        var config: AlertmanagerConfig
        /// How long a firing alert stays valid in Alertmanager without being sent again, so
        /// alerts of a dead exporter resolve by themselves (Prometheus uses the same factor).
        var validFor: Double
    }

    /// nil while no Alertmanager is configured; replaced on reload.
    private let settings = VersionedBox<Settings?>(nil)
    /// Where alerts link to; set once the server knows its port, unless configured.
    private let generatorURL: NIOLockedValueBox<String>
    let logger: Logger

    private struct State {
        var queue: [Alert] = []
        /// The text the queued alerts hold (`Alert.size`).
        var queueBytes = 0
        var dropped: UInt64 = 0
        var sent: [String: UInt64] = [:]
        var failed: [String: UInt64] = [:]
        /// Per Alertmanager, whether its last attempt failed, to log changes only.
        var down: Set<String> = []
    }

    private let state = VersionedBox(State())
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    init(config: AlertmanagerConfig?, evaluationInterval: Duration, generatorURL: String, logger: Logger) {
        self.generatorURL = NIOLockedValueBox(generatorURL)
        self.logger = logger
        (wake, wakeContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        update(config: config, evaluationInterval: evaluationInterval)
    }

    /// Takes a new `alertmanager:` section (on reload); nil stops sending.
    func update(config: AlertmanagerConfig?, evaluationInterval: Duration) {
        settings.mutate { $0 = config.map { Settings(config: $0, validFor: 4 * max($0.resendInterval.seconds, evaluationInterval.seconds)) } }
        state.mutate { s in
            if config == nil { s.queue.removeAll(); s.queueBytes = 0 } else { trim(&s) }
        }
    }

    func setGeneratorURL(_ url: String) {
        generatorURL.withLockedValue { $0 = url }
    }

    /// Queues alerts for sending; never blocks.
    func enqueue(_ alerts: [Alert]) {
        guard settings.read({ $0 != nil }) else { return }
        state.mutate { s in
            push(alerts, onto: &s)
        }
        wakeContinuation.yield()
    }

    /// Queues alerts at the back, or at the front for a batch that is tried again.
    private func push(_ alerts: [Alert], onto s: inout State, atFront: Bool = false) {
        s.queue.insert(contentsOf: alerts, at: atFront ? 0 : s.queue.count)
        s.queueBytes += alerts.reduce(0) { $0 + $1.size }
        trim(&s)
    }

    /// Drops the oldest alerts while the queue is over either bound.
    private func trim(_ s: inout State) {
        guard let config = settings.read({ $0?.config }) else { return }
        var excess = max(0, s.queue.count - config.queueCapacity)
        var bytes = s.queueBytes - s.queue.prefix(excess).reduce(0) { $0 + $1.size }
        while bytes > config.queueMaxBytes, excess < s.queue.count {
            bytes -= s.queue[excess].size
            excess += 1
        }
        guard excess > 0 else { return }
        s.queue.removeFirst(excess)
        s.queueBytes = bytes
        s.dropped += UInt64(excess)
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        await cancelWhenGracefulShutdown {
            var failures = 0
            for await _ in self.wake {
                while let batch = self.nextBatch() {
                    if await self.send(batch, http: http) {
                        failures = 0
                        continue
                    }
                    // Every Alertmanager refused: keep the batch, ahead of newer alerts, and wait.
                    self.state.mutate { s in self.push(batch, onto: &s, atFront: true) }
                    failures += 1
                    let backoff = min(30.0, 0.5 * Double(1 << min(failures, 10)))
                    guard (try? await EventLoopClock().sleep(for: .milliseconds(Int64(backoff * 1000)))) != nil else { return }
                }
            }
        }
        try await http.shutdown()
    }

    private func nextBatch() -> [Alert]? {
        state.mutate { s in
            guard !s.queue.isEmpty else { return nil }
            let batch = Array(s.queue.prefix(Self.batchSize))
            s.queue.removeFirst(batch.count)
            s.queueBytes -= batch.reduce(0) { $0 + $1.size }
            return batch
        }
    }

    /// Posts one batch to every Alertmanager at once; true if at least one took it.
    private func send(_ batch: [Alert], http: HTTPClient) async -> Bool {
        guard let current = settings.read({ $0 }) else { return true }
        let body = ByteBuffer(bytes: payload(batch, now: Date().timeIntervalSince1970, settings: current))
        return await withTaskGroup(of: Bool.self) { group in
            for url in current.config.urls {
                group.addTask { await self.post(body, count: batch.count, to: url, config: current.config, http: http) }
            }
            return await group.reduce(false) { $0 || $1 }
        }
    }

    private func post(_ body: ByteBuffer, count: Int, to url: String, config: AlertmanagerConfig, http: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: url + "/api/v2/alerts")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "redis-ocsp-exporter/\(BuildInfo.version)")
        if let authorization = config.authorization { request.headers.add(name: "Authorization", value: authorization.value) }
        request.tlsConfiguration = config.tls
        request.body = .bytes(body)
        var problem: String?
        do {
            let (status, answer) = try await withDeadline(config.timeout) { [request] in
                let response = try await http.execute(request, timeout: .nanoseconds(config.timeout.nanoseconds))
                return (response.status.code, try await response.body.collect(upTo: 64 * 1024))
            }
            if !(200..<300).contains(Int(status)) {
                problem = "HTTP \(status): \(String(buffer: answer).prefix(200))"
            }
        } catch {
            problem = ClusterClient.classify(error).message
        }
        let changed = state.mutate { s -> Bool in
            if problem == nil {
                s.sent[url, default: 0] += UInt64(count)
                return s.down.remove(url) != nil
            }
            s.failed[url, default: 0] += UInt64(count)
            return s.down.insert(url).inserted
        }
        if changed, let problem {
            logger.warning("sending alerts to Alertmanager failed", metadata: ["alertmanager": "\(url)", "error": "\(problem)"])
        } else if changed {
            logger.info("sending alerts to Alertmanager works again", metadata: ["alertmanager": "\(url)"])
        }
        return problem == nil
    }

    /// The body of POST /api/v2/alerts.
    func payload(_ alerts: [Alert], now: Double) -> [UInt8] {
        guard let current = settings.read({ $0 }) else { return [] }
        return payload(alerts, now: now, settings: current)
    }

    private func payload(_ alerts: [Alert], now: Double, settings: Settings) -> [UInt8] {
        let (config, validFor) = (settings.config, settings.validFor)
        let generatorURL = generatorURL.withLockedValue { $0 }
        struct PostableAlert: Encodable {
            var labels: [String: String]
            var annotations: [String: String]
            var startsAt: String
            var endsAt: String
            var generatorURL: String
        }
        return JSONOutput.encode(alerts.map { alert in
            var labels = Dictionary(alert.labels.map { ($0.name, $0.value) }) { _, last in last }
            for label in config.externalLabels where labels[label.name] == nil { labels[label.name] = label.value }
            return PostableAlert(labels: labels, annotations: alert.annotations, startsAt: RFC3339.format(unixTime: alert.activeAt),
                                 endsAt: RFC3339.format(unixTime: alert.resolvedAt ?? now + validFor), generatorURL: generatorURL)
        })
    }

    var metricsVersion: UInt64 { settings.version &+ state.version }

    /// The notifier's own metrics, for /metrics.
    func renderMetrics() -> String {
        guard let config = settings.read({ $0?.config }) else { return "" }
        let s = state.read { $0 }
        func perAlertmanager(_ counts: [String: UInt64]) -> [([(String, String)], Double)] {
            config.urls.map { ([("alertmanager", $0)], Double(counts[$0] ?? 0)) }
        }
        var out = FamilyWriter()
        out.family("redis_ocsp_notifications_total", .counter, "Alerts sent to each Alertmanager, including failed attempts.",
                   perAlertmanager(s.sent.merging(s.failed, uniquingKeysWith: +)))
        out.family("redis_ocsp_notifications_failed_total", .counter, "Alerts that could not be sent to each Alertmanager.",
                   perAlertmanager(s.failed))
        out.family("redis_ocsp_notifications_dropped_total", .counter, "Alerts dropped because the notification queue was full.",
                   Double(s.dropped))
        out.family("redis_ocsp_notifications_queue_length", .gauge, "Alerts waiting to be sent.", Double(s.queue.count))
        out.family("redis_ocsp_notifications_queue_capacity", .gauge, "Capacity of the notification queue.", Double(config.queueCapacity))
        out.family("redis_ocsp_notifications_queue_bytes", .gauge, "Label and annotation text of the alerts waiting to be sent.",
                   Double(s.queueBytes))
        out.family("redis_ocsp_notifications_queue_max_bytes", .gauge, "Bound of the notification queue in bytes; the oldest alerts are dropped past it.",
                   Double(config.queueMaxBytes))
        return out.text
    }
}
