import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// Anyone who can reach the port can send wrong passwords: bcrypt is slow on purpose, so
/// those checks must not take the threads that poll the clusters or serve the scrapes.
@Suite(.serialized)
struct BasicAuthFloodTests {
    @Test func aFloodOfWrongPasswordsStopsNeitherPollsNorScrapes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flood-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Cost 12, as a careful site would choose: about a quarter of a second per check here.
        let line = try await Subprocess.run(["htpasswd", "-nbB", "-C", "12", "prometheus", "right password"]).output
        let hash = try #require(line.split(separator: ":").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let webFile = directory.appendingPathComponent("web.yml").path
        try "basic_auth_users:\n  prometheus: \(hash)\n".write(toFile: webFile, atomically: true, encoding: .utf8)
        let web = try WebConfigSource(file: webFile, logger: Logger(label: "web"))
        let right = [("Authorization", "Basic " + Data("prometheus:right password".utf8).base64EncodedString())]
        let wrong = "Basic " + Data("prometheus:wrong password".utf8).base64EncodedString()

        try await ExporterHarness.with([SimulatedCluster(name: "a", scenario: .healthy)], pollInterval: "1s", web: web) { harness in
            try await harness.waitForRounds(1)
            #expect(try await harness.get("/metrics", headers: right).status == 200)  // verified once, then remembered

            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
            let flooder = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let floodEnd = ContinuousClock.now + .seconds(8)
            let statuses = Task {
                await withTaskGroup(of: [Int].self) { group in
                    for _ in 0..<16 {
                        group.addTask {
                            var seen: [Int] = []
                            while ContinuousClock.now < floodEnd {
                                var request = HTTPClientRequest(url: "http://127.0.0.1:\(harness.port)/metrics")
                                request.headers.add(name: "Authorization", value: wrong)
                                guard let response = try? await flooder.execute(request, timeout: .seconds(10)) else { continue }
                                _ = try? await response.body.collect(upTo: 1 << 20)
                                seen.append(Int(response.status.code))
                            }
                            return seen
                        }
                    }
                    return await group.reduce(into: []) { $0 += $1 }
                }
            }

            // While it lasts: scrapes with the right password answer at once, and the cluster
            // keeps being polled on its interval.
            var polls: [Double] = []
            var scrapeTimes: [Duration] = []
            while ContinuousClock.now < floodEnd {
                let start = ContinuousClock.now
                let scrape = try await harness.get("/metrics", headers: right)
                scrapeTimes.append(ContinuousClock.now - start)
                #expect(scrape.status == 200)
                if let polledAt = harness.app.store.read().entries.first?.snapshot.polledAt, polls.last != polledAt { polls.append(polledAt) }
                try await Task.sleep(for: .milliseconds(200))
            }
            let seen = await statuses.value
            try await flooder.shutdown()

            #expect(Set(seen).isSubset(of: [401, 429]), "\(Set(seen))")
            // The checks ran on a thread of the lowest priority (nice 19, field 19 of its stat).
            let niceness = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
                (try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8))
                    .flatMap { $0.split(separator: ")").last?.split(separator: " ").dropFirst(16).first }.flatMap { Int($0) }
            }
            #expect(niceness.contains(19), "\(niceness)")
            // Sixteen wrong passwords were waiting for the bcrypt thread all along; how many it
            // got through depends on the CPU left over, since it runs at the lowest priority.
            #expect(!seen.isEmpty, "no flood request was answered")
            #expect(scrapeTimes.allSatisfy { $0 < .milliseconds(100) }, "\(scrapeTimes.max()!)")
            let gaps = zip(polls.dropFirst(), polls).map { $0 - $1 }
            #expect(polls.count >= 5, "\(polls)")
            #expect(gaps.allSatisfy { $0 <= 2.0 }, "polls: \(polls), gaps: \(gaps)")
        }
    }
}
