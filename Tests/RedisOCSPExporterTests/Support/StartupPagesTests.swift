import CStartupPages
import NIOConcurrencyHelpers
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// Written before the pages are released and read after: data the process wrote must survive.
nonisolated(unsafe) private var written = [UInt8](repeating: 0, count: 3)

@Suite(.tags(.unit))
struct StartupPagesTests {
    struct Mapping {
        let range: Range<UInt>
        let writable: Bool
        let file: Bool
    }

    static func mappings() throws -> [Mapping] {
        try #require(ProcessMetrics.procText("/proc/self/maps")).split(separator: "\n").map { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let bounds = fields[0].split(separator: "-").map { UInt($0, radix: 16)! }
            return Mapping(range: bounds[0]..<bounds[1], writable: fields[1].contains("w"), file: fields[4] != "0")
        }
    }

    /// Pages dropped with MADV_DONTNEED come back from the file: a read-only span must lie in
    /// read-only mappings of a file, never in memory the process wrote.
    @Test func spansLieInTheFilesMappingsAndReadOnlyOnesAreNeverWritable() throws {
        let spans = StartupPages.spans()
        let mappings = try Self.mappings()
        #expect(spans.contains { $0.writable == 0 }, "no read-only span")
        for span in spans {
            let range = span.start..<(span.start + UInt(span.length))
            let covering = mappings.filter { $0.range.overlaps(range) }
            #expect(!covering.isEmpty && covering.allSatisfy(\.file), "span \(range) outside the file's mappings")
            if span.writable == 0 {
                #expect(covering.allSatisfy { !$0.writable }, "read-only span \(range) in a writable mapping")
            }
        }
        let code = UInt(bitPattern: unsafeBitCast(redis_ocsp_file_spans as @convention(c) (UnsafeMutablePointer<redis_ocsp_span>, Int) -> Int,
                                                  to: Int.self))
        #expect(spans.contains { $0.writable == 0 && ($0.start..<($0.start + UInt($0.length))).contains(code) }, "the code is not covered")
        let data = written.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        #expect(!spans.contains { $0.writable == 0 && ($0.start..<($0.start + UInt($0.length))).contains(data) })
    }

    /// After the release the process goes on as before: code runs, constants and written
    /// data read as they were (a dropped page of relocated or written data would not).
    @Test func releasingKeepsCodeConstantsAndData() {
        written = [1, 2, 3]
        let before = (Exposition.header(name: "a_b", help: "x\\y\nz", type: .gauge), "\(StableHash.self)", String(repeating: "ab", count: 3))
        #expect(StartupPages.release() > 0)
        #expect(written == [1, 2, 3])
        let after = (Exposition.header(name: "a_b", help: "x\\y\nz", type: .gauge), "\(StableHash.self)", String(repeating: "ab", count: 3))
        #expect(before == after)
        #expect(after.0.hasPrefix("# HELP a_b x\\\\y\\nz\n"))
    }
}

@Suite
struct ReadyHookTests {
    /// Called when the first round is done (`SnapshotStore.firstRoundDone`, tested with the
    /// store), and not again for the rounds that follow.
    @Test func theReadyHookRunsOnceForAllTheRounds() async throws {
        let calls = NIOLockedValueBox(0)
        let clusters = (0..<3).map { SimulatedCluster(name: "r\($0)", scenario: .healthy) }
        try await ExporterHarness.with(clusters, pollInterval: "200ms", onReady: { calls.withLockedValue { $0 += 1 } }) { harness in
            try await harness.waitForRounds(1)
            try await waitUntil("the ready hook") { calls.withLockedValue { $0 } > 0 }
            try await harness.waitForRounds(3)
            #expect(calls.withLockedValue { $0 } == 1)
        }
    }
}
