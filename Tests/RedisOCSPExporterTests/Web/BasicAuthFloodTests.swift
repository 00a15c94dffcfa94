import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import OCSPSimulator
@testable import RedisOCSPExporter
import Synchronization
import Testing

/// Anyone who can reach the port can send wrong passwords: bcrypt is slow on purpose, so
/// those checks must not take the threads that poll the clusters or serve the scrapes.
@Suite(.serialized)
struct BasicAuthFloodTests {
    /// A bcrypt that never finishes a wrong password until released: the check thread stays
    /// busy for as long as the test needs, however fast or loaded the machine is.
    final class HeldChecks: Sendable {
        private let released = ConditionLock(value: false)
        let held = Atomic(0)
        /// Checks that ran on a thread of the concurrency pool or on an event loop: those are
        /// not held (that would hang the test rather than fail it), only counted.
        let misplaced = Atomic(0)
        /// The nice value of every thread a check ran on.
        let niceness = NIOLockedValueBox<Set<Int32>>([])

        func check(password: String, hash: String) -> Bool {
            niceness.withLockedValue { _ = $0.insert(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
            if withUnsafeCurrentTask(body: { $0 != nil }) || MultiThreadedEventLoopGroup.currentEventLoop != nil {
                misplaced.wrappingAdd(1, ordering: .relaxed)
                return false
            }
            guard password == "wrong password" else { return BcryptHash.verify(password: password, hash: hash) }
            held.wrappingAdd(1, ordering: .relaxed)
            released.lock(whenValue: true)
            released.unlock()
            return false
        }

        func release() {
            released.lock()
            released.unlock(withValue: true)
        }
    }

    final class FloodCounts: Sendable {
        let stop = Atomic(false)
        let turnedAway = Atomic(0)
    }

    @Test func aFloodOfWrongPasswordsStopsNeitherPollsNorScrapes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flood-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let line = try await Subprocess.run(["htpasswd", "-nbB", "-C", "10", "prometheus", "right password"]).output
        let hash = try #require(line.split(separator: ":").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let webFile = directory.appendingPathComponent("web.yml").path
        try "basic_auth_users:\n  prometheus: \(hash)\n".write(toFile: webFile, atomically: true, encoding: .utf8)
        let checks = HeldChecks()
        let verifier = PasswordVerifier(maxPending: 8, check: checks.check)
        let web = try WebConfigSource(file: webFile, logger: Logger(label: "web"), verifier: verifier)
        let right = [("Authorization", "Basic " + Data("prometheus:right password".utf8).base64EncodedString())]
        let wrong = "Basic " + Data("prometheus:wrong password".utf8).base64EncodedString()

        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1s", web: web) { harness in
            try await harness.waitForRounds(1)
            #expect(try await harness.get("/metrics", headers: right).status == 200)  // verified once, then remembered

            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
            let flooder = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let counts = FloodCounts()
            defer { checks.release() }  // whatever fails below, the server can stop
            let flood = Task {
                await withTaskGroup(of: [Int].self) { group in
                    for _ in 0..<16 {
                        group.addTask {
                            var seen: [Int] = []
                            while !counts.stop.load(ordering: .relaxed) {
                                var request = HTTPClientRequest(url: "http://127.0.0.1:\(harness.port)/metrics")
                                request.headers.add(name: "Authorization", value: wrong)
                                guard let response = try? await flooder.execute(request, timeout: .seconds(600)) else { continue }
                                _ = try? await response.body.collect(upTo: 1 << 20)
                                seen.append(Int(response.status.code))
                                if response.status.code == 429 { counts.turnedAway.wrappingAdd(1, ordering: .relaxed) }
                            }
                            return seen
                        }
                    }
                    return await group.reduce(into: []) { $0 += $1 }
                }
            }

            // The check thread holds a wrong password, and the queue behind it is full: more
            // wrong passwords are turned away at once.
            try await waitUntil("a check is held and the queue is full") {
                checks.misplaced.load(ordering: .relaxed) > 0 || checks.held.load(ordering: .relaxed) == 1 && counts.turnedAway.load(ordering: .relaxed) > 0
            }
            try #require(checks.misplaced.load(ordering: .relaxed) == 0, "a password check ran on the concurrency pool or an event loop")
            // While it stays so: scrapes with the right password are answered, and the cluster
            // keeps being polled. Had a check taken a thread of the concurrency pool or an
            // event loop, polls and scrapes would stop here.
            for _ in 0..<3 {
                #expect(try await harness.get("/metrics", headers: right).status == 200)
                try await harness.waitForRounds(1)
            }
            #expect(checks.held.load(ordering: .relaxed) == 1, "the held check was still the only one to run")

            counts.stop.store(true, ordering: .relaxed)
            checks.release()  // the held check and the ones queued behind it answer 401
            let seen = await flood.value
            try await flooder.shutdown()
            #expect(Set(seen) == [401, 429], "\(Set(seen))")
            // The checks ran on a thread of the lowest priority.
            #expect(checks.niceness.withLockedValue { $0 } == [19])
        }
    }
}
