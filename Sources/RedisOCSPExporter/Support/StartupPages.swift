import CStartupPages
import Glibc
import NIOPosix
import Synchronization

/// Hands the pages that starting up brought in back to the kernel, once the exporter is up.
///
/// The kernel maps a file into a process in blocks of 64 KB around each page fault. Starting up
/// (flags, configuration, TLS contexts, the server, the first round) runs code spread over the
/// whole binary and its libraries, and leaves megabytes of them resident that no poll or
/// scrape reads again. What runs afterwards faults back only what it touches.
/// - Read-only segments (code, constants) hold nothing but the file's bytes: they are dropped
///   (`MADV_DONTNEED`). They stay in the page cache until the kernel needs the memory, and a
///   later fault maps them again without reading the file.
/// - Writable segments hold the file's bytes in the pages never written, and the process's own
///   data in the others (the toolchain puts `.rodata` there, beside `.data`): they are handed
///   to reclaim (`MADV_PAGEOUT`), which drops the clean pages and keeps the data (in swap,
///   if there is any). The RELRO data, all of it written at start, is left alone.
public enum StartupPages {
    private static let released = Atomic(false)

    /// The file-backed segments of the program and its libraries.
    static func spans() -> [redis_ocsp_span] {
        var spans = [redis_ocsp_span](repeating: redis_ocsp_span(), count: 64)
        while true {
            let count = redis_ocsp_file_spans(&spans, spans.count)
            if count <= spans.count { return Array(spans.prefix(count)) }
            spans = [redis_ocsp_span](repeating: redis_ocsp_span(), count: count)
        }
    }

    /// Releases the pages, once per process; the later calls do nothing. A few thousand
    /// page-table entries, and reclaim: on the thread pool.
    public static func releaseOnce() {
        guard released.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        NIOThreadPool.singleton.submit { _ in release() }
    }

    /// Releases the pages and returns how many bytes the kernel took the advice for.
    @discardableResult
    static func release() -> Int {
        spans().reduce(0) { bytes, span in
            guard let start = UnsafeMutableRawPointer(bitPattern: span.start) else { return bytes }
            let advice = span.writable != 0 ? MADV_PAGEOUT : MADV_DONTNEED
            return madvise(start, span.length, advice) == 0 ? bytes + span.length : bytes
        }
    }
}
