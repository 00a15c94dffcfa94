import NIOCore
@testable import RedisOCSPExporter
import Testing

/// Buffers from the page-backed allocator hold what is written to them, below and above the
/// size from which they are mapped, and keep it as they grow from one kind to the other.
struct PageBackedAllocatorTests {
    @Test(arguments: [1, 100, 16 * 1024 - 1, 16 * 1024, 32 * 1024, 1 << 20])
    func aBufferKeepsItsBytes(capacity: Int) {
        var buffer = PageBackedAllocator.allocator.buffer(capacity: capacity)
        let bytes = (0..<capacity).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        buffer.writeBytes(bytes)
        #expect(buffer.readableBytesView.elementsEqual(bytes))
    }

    @Test func aGrowingBufferKeepsItsBytesAcrossBothKinds() {
        var buffer = PageBackedAllocator.allocator.buffer(capacity: 64)
        var written: [UInt8] = []
        // From malloc's 64 bytes to mapped pages and on to 256 KB: NIO reallocates on the way.
        for round in 0..<1024 {
            let chunk = [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 256)
            buffer.writeBytes(chunk)
            written += chunk
        }
        #expect(buffer.capacity >= 256 * 1024)
        #expect(buffer.readableBytesView.elementsEqual(written))
        // A copy made on write is a buffer of its own.
        var copy = buffer
        copy.setBytes([0xFF], at: 0)
        #expect(buffer.getInteger(at: 0, as: UInt8.self) == 0)
        #expect(copy.getInteger(at: 0, as: UInt8.self) == 0xFF)
    }
}
