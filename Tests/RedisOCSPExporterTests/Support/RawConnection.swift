import Foundation

/// A plain TCP connection for sending what no well-behaved HTTP client would.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    /// The descriptor is stored only once connected: a class whose initializer throws after
    /// storing all its properties still runs deinit, which would close it a second time, and
    /// a second close can hit a descriptor another thread (NIO) has opened under that number.
    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw HarnessError("cannot connect to port \(port)")
        }
        self.fd = fd
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// What the server sends within `timeout`, and whether it closed the connection. The
    /// blocking wait runs on a thread of its own: on one of Swift concurrency's few threads it
    /// would starve the in-process exporter that is to answer.
    func receive(timeout: TimeInterval) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.receiveBlocking(timeout: timeout)) }
        }
    }

    /// What the server sends until `done` holds for it or the connection closes; only a hang
    /// reaches `timeout`.
    func receive(until done: (String) -> Bool, timeout: Duration = .seconds(60)) async throws -> String {
        var text = ""
        try await waitUntil("an answer on a raw connection", timeout: timeout) {
            let part = await receive(timeout: 0.1)
            text += part.text
            return part.closed || done(text)
        }
        return text
    }

    private func receiveBlocking(timeout: TimeInterval) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready <= 0 { break }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received += buffer[0..<n]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    deinit { close(fd) }
}

extension RawConnection {
    /// Waits until something accepts connections on the loopback port (a server started as a
    /// separate process).
    static func waitUntilAccepting(port: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while (try? RawConnection(port: port)) == nil {
            guard ContinuousClock.now < deadline else { throw HarnessError("nothing accepts connections on port \(port)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
