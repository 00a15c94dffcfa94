#if canImport(Glibc)
import Glibc
#endif
// NIO's hook for a ByteBuffer allocator of one's own, public under this SPI name.
@_spi(CustomByteBufferAllocator) import NIOCore

/// The allocator of REST connections' buffers. NIOSSL gives each connection a 32 KB read and a
/// 16 KB write buffer for its whole life, of which a kept connection writes a page or two
/// (requests and answers are small). Taken from malloc's reused memory, all of both is
/// resident; mapped fresh, only the pages written are. So buffers of `mappedFrom` bytes and
/// more are pages of their own, and smaller ones come from malloc.
enum PageBackedAllocator {
    static let allocator = ByteBufferAllocator(allocate: allocate, reallocate: reallocate, deallocate: deallocate, copy: copy)

    private static let mappedFrom = 16 * 1024
    /// Each block starts with its size and whether it is mapped: `deallocate` is given the
    /// pointer alone. 16 bytes keep the buffer aligned as malloc's are.
    private static let header = 16

    private static let allocate: @convention(c) (size_t) -> UnsafeMutableRawPointer? = { size in
        let total = size + header
        if size >= mappedFrom {
            let mapped = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let mapped, mapped != MAP_FAILED { return start(mapped, size: size, mapped: true) }
        }
        // NIO does not expect nil; malloc failing is out of memory, where NIO's own allocator traps too.
        guard let base = malloc(total) else { fatalError("out of memory: \(total) bytes") }
        return start(base, size: size, mapped: false)
    }

    private static func start(_ base: UnsafeMutableRawPointer, size: Int, mapped: Bool) -> UnsafeMutableRawPointer {
        base.storeBytes(of: size, as: Int.self)
        base.storeBytes(of: mapped, toByteOffset: MemoryLayout<Int>.size, as: Bool.self)
        return base + header
    }

    private static let deallocate: @convention(c) (UnsafeMutableRawPointer) -> Void = { pointer in
        let base = pointer - header
        if base.load(fromByteOffset: MemoryLayout<Int>.size, as: Bool.self) {
            munmap(base, base.load(as: Int.self) + header)
        } else {
            free(base)
        }
    }

    private static let reallocate: @convention(c) (UnsafeMutableRawPointer?, size_t, size_t) -> UnsafeMutableRawPointer? = {
        pointer, oldSize, newSize in
        guard let new = allocate(newSize) else { return nil }
        if let pointer {
            new.copyMemory(from: pointer, byteCount: min(oldSize, newSize))
            deallocate(pointer)
        }
        return new
    }

    private static let copy: @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer, size_t) -> Void = { target, source, count in
        target.copyMemory(from: source, byteCount: count)
    }
}
