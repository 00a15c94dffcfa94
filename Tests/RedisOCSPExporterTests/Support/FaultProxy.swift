import Foundation
import NIOConcurrencyHelpers

/// A loopback TCP proxy that breaks the connections it carries in one chosen way.
final class FaultProxy: Sendable {
    enum Fault: Sendable {
        /// Close every connection at once with a TCP reset.
        case reset
        /// Pass the first bytes of the answer, then send nothing more and keep the connection open.
        case stall(afterBytes: Int)
        /// Pass the first bytes of the answer, then close.
        case truncate(afterBytes: Int)
        /// Flip bits in everything the server sends after its first packet (TLS records).
        case corrupt
        /// Hold back everything the server sends by this long.
        case delay(TimeInterval)
    }

    let port: Int
    private let listener: Int32
    private let upstreamPort: Int
    private let fault: Fault
    private let open = NIOLockedValueBox<[Int32]>([])

    init(upstreamPort: Int, fault: Fault) throws {
        self.upstreamPort = upstreamPort
        self.fault = fault
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw HarnessError("the fault proxy cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            if case .reset = fault {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(client)
                continue
            }
            guard let upstream = try? RawConnection(port: upstreamPort) else {
                close(client)
                continue
            }
            let upstreamFD = dup(upstream.fd)
            open.withLockedValue { $0 += [client, upstreamFD] }
            Thread.detachNewThread { [self] in pump(from: client, to: upstreamFD, transform: false) }
            Thread.detachNewThread { [self] in pump(from: upstreamFD, to: client, transform: true) }
        }
    }

    private func pump(from source: Int32, to destination: Int32, transform: Bool) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var forwarded = 0
        var packets = 0
        defer {
            shutdown(destination, Int32(SHUT_WR))
            if !transform { shutdown(source, Int32(SHUT_RD)) }
        }
        while true {
            let n = read(source, &buffer, buffer.count)
            guard n > 0 else { return }
            var chunk = Array(buffer[0..<n])
            packets += 1
            if transform {
                switch fault {
                case .stall(let limit), .truncate(let limit):
                    if forwarded >= limit {
                        if case .truncate = fault { return }
                        continue  // stalled: swallow the rest, send nothing
                    }
                    chunk = Array(chunk.prefix(limit - forwarded))
                case .corrupt where packets > 1:
                    for i in chunk.indices where i % 7 == 3 { chunk[i] ^= 0x5A }
                case .delay(let seconds):
                    Thread.sleep(forTimeInterval: seconds)
                default:
                    break
                }
            }
            forwarded += chunk.count
            var sent = 0
            while sent < chunk.count {
                let w = chunk[sent...].withUnsafeBytes { Glibc.send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard w > 0 else { return }
                sent += w
            }
            if case .truncate(let limit) = fault, transform, forwarded >= limit { return }
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open.withLockedValue({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }
}
