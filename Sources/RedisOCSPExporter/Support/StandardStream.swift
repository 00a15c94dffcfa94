import Glibc

/// Writes to a standard stream without Foundation's FileHandle: the whole text, retried
/// where a signal interrupts it; a closed stream drops the text.
public enum StandardStream {
    public static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
