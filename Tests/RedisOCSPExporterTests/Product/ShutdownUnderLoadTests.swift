import AsyncHTTPClient
import Foundation
import OCSPSimulator
import NIOCore
import Synchronization
import Testing

/// SIGTERM while 128 connections scrape /metrics, others load the landing page and a reload
/// is running: the exporter exits 0 without a crash, every answer it gave was whole, and it
/// does so every time (20 runs in a row of the built binary).
@Suite(.serialized)
struct ShutdownUnderLoadTests {
    @Test func sigtermUnderLoadAndDuringAReloadExitsCleanlyEveryTime() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 144
        configuration.decompression = .disabled
        // Once the exporter is gone, fail at once instead of retrying the connection.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        for run in 1...20 {
            let exporter = try ExporterProcess(["--demo", "--web.listen-address=127.0.0.1:0", "--web.enable-lifecycle"])
            let port = try await exporter.listeningPort()
            let stopping = StopFlag()
            let load = Task {
                await withTaskGroup(of: (ok: Int, bad: [String]).self) { group in
                    for i in 0..<144 {
                        group.addTask {
                            var ok = 0, bad: [String] = []
                            while !stopping.value.load(ordering: .relaxed) {
                                let path = i < 128 ? "/metrics" : "/"
                                do {
                                    let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
                                    let body = try await response.body.collect(upTo: 16 << 20)
                                    let complete = path == "/" ? String(buffer: body).contains("</html>") : String(buffer: body).contains("process_start_time_seconds")
                                    if response.status == .ok, complete {
                                        ok += 1
                                        stopping.answered.add(1, ordering: .relaxed)
                                    } else {
                                        bad.append("\(path): \(response.status.code), \(body.readableBytes) bytes")
                                    }
                                } catch {
                                    // Refused or closed once the server has stopped: expected after SIGTERM.
                                    try? await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            return (ok, bad)
                        }
                    }
                    return await group.reduce(into: (ok: 0, bad: [String]())) { $0.ok += $1.ok; $0.bad += $1.bad }
                }
            }
            // Under load: the scrapers are connected and being answered.
            try await waitUntil("a scrape answered") { stopping.answered.load(ordering: .relaxed) > 0 }
            let reload = Task { try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/-/reload"), timeout: .seconds(10)) }
            exporter.signal(SIGHUP)
            exporter.signal(SIGTERM)
            let status = try await exporter.waitForExit(timeout: .seconds(30))
            stopping.value.store(true, ordering: .relaxed)
            let (ok, bad) = await load.value
            _ = await reload.value
            #expect(status == 0, "run \(run): exit status \(status)\n\(exporter.stderr.suffix(2000))")
            #expect(!exporter.stderr.contains("Fatal error"), "run \(run): \(exporter.stderr.suffix(2000))")
            #expect(bad.isEmpty, "run \(run): \(bad.prefix(5))")
            #expect(ok > 0, "run \(run): no scrape was answered")
            if status != 0 || !bad.isEmpty { break }
        }
    }

    /// Cancelling the task that runs the exporter while connections are being served is a
    /// graceful shutdown too (it used to end in NIO's "NIOAsyncWriter deinited without finish").
    @Test func cancellingTheExporterTaskUnderLoadShutsDownGracefully() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        for _ in 0..<40 {
            let harness = try await ExporterHarness.start([SimulatedCluster(name: "a", scenario: .healthy)])
            let stopping = StopFlag()
            let load = Task {
                await withTaskGroup(of: Int.self) { group in
                    for _ in 0..<64 {
                        group.addTask {
                            var ok = 0
                            while !stopping.value.load(ordering: .relaxed) {
                                guard let response = try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(harness.port)/metrics"), timeout: .seconds(5)),
                                      (try? await response.body.collect(upTo: 16 << 20)) != nil else {
                                    try? await Task.sleep(for: .milliseconds(20))
                                    continue
                                }
                                ok += 1
                                stopping.answered.add(1, ordering: .relaxed)
                            }
                            return ok
                        }
                    }
                    return await group.reduce(0, +)
                }
            }
            try await waitUntil("a scrape answered") { stopping.answered.load(ordering: .relaxed) > 0 }
            let start = ContinuousClock.now
            await harness.cancel()
            #expect(ContinuousClock.now - start < .seconds(15))
            stopping.value.store(true, ordering: .relaxed)
            #expect(await load.value > 0)
        }
    }
}


/// Tells the scrapers to stop, and tells the test that one of them was answered: the
/// shutdown under test must come while they are being served, not after a guess at how long
/// that takes (on a busy machine, longer than any fixed wait).
final class StopFlag: Sendable {
    let value = Atomic(false)
    let answered = Atomic(0)
}
