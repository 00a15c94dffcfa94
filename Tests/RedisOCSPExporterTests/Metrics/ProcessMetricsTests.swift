@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct ProcessMetricsTests {
    /// /proc's files report no size: a reader that trusts the size (or reads one page) gets
    /// the first 4 KB only, and /proc/stat's btime line comes after a line per CPU and the
    /// interrupt counters. /proc/self/smaps is over 4 KB in any process of ours.
    @Test func procFilesAreReadWhole() throws {
        let smaps = try #require(ProcessMetrics.procText("/proc/self/smaps"))
        #expect(smaps.utf8.count > 8192)
        #expect(smaps.hasSuffix("\n"))
        let last = try #require(smaps.split(separator: "\n").last)
        #expect(last.hasPrefix("VmFlags:"), "ends in \(last)")
    }

    @Test func theStandardFamiliesHaveValues() throws {
        let text = ProcessMetrics.render()
        for name in ["process_start_time_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"] {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "\(name) has no sample")
            #expect(Double(line.split(separator: " ")[1]).map { $0 > 0 } == true, "\(line)")
        }
    }
}
