import Glibc
import RedisOCSPExporter
import Testing

/// After `mapSeparately`, a block above the threshold has a mapping of its own even after a
/// larger one was freed (which, by default, raises glibc's threshold above it).
@Suite(.tags(.unit))
struct LargeAllocationsTests {
    /// glibc marks a chunk served by a mapping of its own with bit 1 of its size field, the
    /// word before the pointer.
    static func isMapped(_ pointer: UnsafeMutableRawPointer) -> Bool {
        (pointer - MemoryLayout<Int>.size).load(as: Int.self) & 2 != 0
    }

    @Test func blocksAboveTheThresholdStayMapped() {
        LargeAllocations.mapSeparately()
        free(malloc(8 << 20))
        let size = Int(LargeAllocations.threshold) * 2
        let block = malloc(size)!
        defer { free(block) }
        #expect(Self.isMapped(block))
        let small = malloc(1024)!
        defer { free(small) }
        #expect(!Self.isMapped(small))
    }
}
