import FoundationEssentials
import Glibc
import YAML

/// Reads the files a configuration consists of or points at: the two YAML documents (the
/// configuration and the web configuration) and the secret files; and /proc's files. Every reader goes through
/// here, so none can fall back to an empty document or an empty secret when a file cannot be
/// read or decoded.
enum ConfigFile {
    /// Files the configuration points at (secrets, certificates) are small; a larger one is a mistake.
    static let maxFileBytes = 1 << 20
    /// A fleet of 10,000 clusters takes under 2 MB of configuration.
    static let maxConfigBytes = 32 << 20

    /// Why a file cannot be read, or nil when it can (it is read to find out).
    static func problem(_ path: String, limit: Int = maxFileBytes) -> String? {
        if case .failure(let error) = bytes(path, limit: limit) { error.reason } else { nil }
    }

    /// The file's bytes, read through one descriptor: the path is opened (following symbolic
    /// links, as Kubernetes mounts ConfigMaps and Secrets), then what was opened is checked and
    /// read, so nothing can change between the check and the read. Only a regular file
    /// qualifies: a device or a pipe (/dev/zero, a FIFO) would make the read endless, and
    /// O_NONBLOCK keeps the open of a FIFO from waiting for a writer.
    static func bytes(_ path: String, limit: Int) -> Result<[UInt8], Unreadable> {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            switch errno {
            case ENOENT, ENOTDIR: return .failure(Unreadable(reason: "no such file"))
            case EACCES, EPERM: return .failure(Unreadable(reason: "permission denied"))
            case ELOOP: return .failure(Unreadable(reason: "too many levels of symbolic links"))
            default: return .failure(Unreadable(reason: "cannot be opened (errno \(errno))"))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(Unreadable(reason: "cannot be read")) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(Unreadable(reason: "is a directory"))
        default: return .failure(Unreadable(reason: "is not a regular file"))
        }
        guard info.st_size <= limit else { return .failure(Unreadable(reason: "larger than \(limit) bytes")) }
        // Sized by the file (a fleet's configuration names thousands of small secret files), grown
        // if it grows while it is read (or reports no size, as /proc does), up to the limit.
        var data = [UInt8](repeating: 0, count: min(Int(info.st_size), limit) + 1)
        var count = 0
        while count <= limit {
            if count == data.count { data += repeatElement(0, count: min(data.count, limit + 1 - data.count)) }
            let n = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return .failure(Unreadable(reason: "cannot be read")) }
            if n == 0 { break }
            count += n
        }
        guard count <= limit else { return .failure(Unreadable(reason: "larger than \(limit) bytes")) }
        return .success(Array(data[..<count]))
    }

    /// The file's whole text, or why there is none. Bytes that are not UTF-8 are an error,
    /// never dropped or replaced.
    static func text(_ path: String, limit: Int = maxFileBytes) -> Result<String, Unreadable> {
        bytes(path, limit: limit).flatMap { data in
            guard let text = String(validating: data, as: UTF8.self) else { return .failure(Unreadable(reason: "is not UTF-8 text")) }
            return .success(text)
        }
    }

    /// A secret file (password_file, bearer_token_file): its text less the line endings at its
    /// end, since files written with `echo` end in a newline that is not part of the secret. An
    /// empty secret is refused: it would silently send no credentials.
    static func secret(_ path: String) -> Result<String, Unreadable> {
        text(path).flatMap { text in
            var scalars = Substring(text).unicodeScalars
            while let last = scalars.last, last == "\n" || last == "\r" { scalars.removeLast() }
            return scalars.isEmpty ? .failure(Unreadable(reason: "is empty")) : .success(String(scalars))
        }
    }

    /// A YAML configuration document read from `path`; a ConfigError naming the file otherwise.
    static func document(_ path: String) throws -> YAMLNode? {
        switch text(path, limit: maxConfigBytes) {
        case .failure(let error):
            throw ConfigError(source: path, issues: [.init(field: "", message: "cannot read the file: \(error.reason)")])
        case .success(let text):
            return try parse(yaml: text, source: path)
        }
    }

    static func parse(yaml: String, source: String) throws -> YAMLNode? {
        do {
            return try YAMLNode.compose(yaml)
        } catch {
            // Where and what, never the line's text; a key the composer names may hold anything.
            throw ConfigError(source: source, issues: [.init(field: "", message: "not valid YAML: \(error.description.escapingControlCharacters)")])
        }
    }

    struct Unreadable: Error {
        var reason: String
    }
}
