import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// Hostile and broken clients get a 4xx or a closed connection, and nothing else changes.
@Suite(.serialized)
struct HardeningTests {
    @Test func oversizedAndMalformedRequestsAreRefusedAndServingGoesOn() async throws {
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            let before = try await harness.metrics()

            let huge = try RawConnection(port: harness.port)
            huge.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 64 * 1024))\r\n\r\n")
            let hugeAnswer = await huge.receive(timeout: 30)
            #expect(hugeAnswer.text.hasPrefix("HTTP/1.1 4") || (hugeAnswer.closed && hugeAnswer.text.isEmpty), "\(hugeAnswer.text.prefix(200))")
            #expect(!hugeAnswer.text.contains("redis_ocsp_"))

            for garbage in ["GARBAGE\r\n\r\n", "GET /metrics HTTP/9.9\r\n\r\n", "GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                            "\u{0}\u{1}\u{2}\r\n\r\n"] {
                let connection = try RawConnection(port: harness.port)
                connection.send(garbage)
                let answer = await connection.receive(timeout: 30)
                #expect(answer.text.hasPrefix("HTTP/1.1 4") || answer.closed, "\(garbage.debugDescription): \(answer.text.prefix(100))")
                #expect(!answer.text.contains("redis_ocsp_"))
            }

            // Everything else is as it was.
            let after = try await harness.metrics()
            #expect(after.series("redis_ocsp_").count == before.series("redis_ocsp_").count)
            #expect(after["redis_ocsp_cert_status{cluster=\"a\",status=\"GOOD\"}"] == 1)
            #expect(try await harness.get("/-/ready").status == 200)
        }
    }

    @Test func idleAndSlowClientsAreDisconnected() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(1)
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], limits: limits) { harness in
            let idle = try RawConnection(port: harness.port)
            #expect(await idle.receive(timeout: 30).closed, "an idle connection stays open")
            // A client that never finishes its request line is dropped too.
            let slow = try RawConnection(port: harness.port)
            slow.send("GET /met")
            #expect(await slow.receive(timeout: 30).closed, "a slow client stays connected")
            #expect(try await harness.get("/-/healthy").status == 200)
        }
    }

    @Test func connectionsBeyondTheCapWaitUntilOneCloses() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 2
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], limits: limits) { harness in
            // Both held connections are in service (each answered a request, and stays open).
            var held = [try RawConnection(port: harness.port), try RawConnection(port: harness.port)]
            for connection in held { connection.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n") }
            for connection in held {
                #expect(try await connection.receive(until: { $0.contains("Healthy.") }).contains("Healthy."))
            }
            let waiting = try RawConnection(port: harness.port)
            waiting.send("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await waiting.receive(timeout: 1).text.isEmpty, "a third connection was served while two were open")
            held.removeAll()
            let served = try await waiting.receive(until: { $0.contains("Healthy.") })
            #expect(served.hasPrefix("HTTP/1.1 200"), "\(served)")
        }
    }

    /// Clients that trickle a request, a head or a body, one byte at a time, each in less
    /// than the idle timeout, or announce a body that never comes: with every connection slot
    /// taken by them, a scrape is still answered, since each must finish its head within the
    /// request timeout and no request may have a body.
    @Test(arguments: [("GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", true), ("GET /-/heal", true),
                      ("GET /-/healthy HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", false)])
    func tricklingClientsCannotHoldEverySlot(_ start: String, _ trickle: Bool) async throws {
        var limits = ServerLimits()
        limits.maxConnections = 4
        limits.requestTimeout = .seconds(1)
        // Longer than the harness waits for an answer: only the request deadline can free a slot.
        limits.idleTimeout = .seconds(300)
        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], limits: limits) { harness in
            let trickling = try (0..<limits.maxConnections).map { _ in try RawConnection(port: harness.port) }
            for connection in trickling { connection.send(start) }
            let feeder = Task {
                // A byte every 300 ms: the idle timer (30 s) would never fire. Pacing, not an ordering barrier.
                while trickle, (try? await Task.sleep(for: .milliseconds(300))) != nil {
                    for connection in trickling { connection.send("x") }
                }
            }
            // Answered only once the trickling connections are closed and a slot is free.
            let (status, _, _) = try await harness.get("/metrics")
            #expect(status == 200)
            for connection in trickling {
                let answer = await connection.receive(timeout: 30)
                #expect(answer.closed, "a trickling client kept its connection")
                #expect(!answer.text.contains("200 OK"))
            }
            feeder.cancel()
            await feeder.value
        }
    }
}
