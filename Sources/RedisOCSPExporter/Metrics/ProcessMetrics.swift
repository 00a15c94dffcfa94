import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// The standard process_* metrics, read from /proc as the official client libraries do.
enum ProcessMetrics {
    private static let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
    private static let bootTime: Double? = {
        guard let stat = procText("/proc/stat") else { return nil }
        for line in stat.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).drop(while: \.isWhitespace).prefix(while: { !$0.isWhitespace }))
        }
        return nil
    }()

    /// A /proc file's whole text. They report no size, and a reader that goes by it gets the
    /// first page only.
    static func procText(_ path: String) -> String? {
        try? ConfigFile.text(path).get()
    }

    static func render() -> String {
        var out = FamilyWriter()
        func add(_ name: String, _ type: Exposition.MetricType, _ help: String, _ value: Double?) {
            out.family(name, type, help, value)
        }
        // Fields after the command name, which is in parentheses and may itself hold spaces.
        var fields: [Substring] = []
        if let stat = procText("/proc/self/stat"),
           let close = stat.lastIndex(of: ")")
        {
            fields = stat[stat.index(after: close)...].split(separator: " ")
        }
        func field(_ number: Int) -> Double? {
            // /proc/<pid>/stat numbering (man 5 proc) starts at 1 with the pid; fields[0] is number 3.
            let index = number - 3
            return index < fields.count ? Double(fields[index]) : nil
        }
        let cpu = field(14).flatMap { utime in field(15).map { (utime + $0) / clockTicks } }
        add("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds.", cpu)
        let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        add("process_open_fds", .gauge, "Number of open file descriptors.", fds.map(Double.init))
        var limit = rlimit()
        let maxFds = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil
        add("process_max_fds", .gauge, "Maximum number of open file descriptors.", maxFds)
        add("process_virtual_memory_bytes", .gauge, "Virtual memory size in bytes.", field(23))
        add("process_resident_memory_bytes", .gauge, "Resident memory size in bytes.", field(24).map { $0 * pageSize })
        let start = field(22).flatMap { ticks in bootTime.map { $0 + ticks / clockTicks } }
        add("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds.", start)
        return out.text
    }
}
