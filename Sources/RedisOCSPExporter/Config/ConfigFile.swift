import Foundation
import Yams

/// Reads the files a configuration consists of or points at: the two YAML documents (the
/// configuration and the web configuration) and the secret files. Every reader goes through
/// here, so none can fall back to an empty document or an empty secret when a file cannot be
/// read or decoded.
enum ConfigFile {
    /// Files the configuration points at (secrets, certificates) are small; a larger one is a mistake.
    static let maxFileBytes = 1 << 20
    /// A fleet of 10,000 clusters takes under 2 MB of configuration.
    static let maxConfigBytes = 32 << 20

    /// Why a file cannot be read, or nil when it can. Only regular files qualify: a device or
    /// a pipe (/dev/zero, a FIFO) would make the read endless.
    static func problem(_ path: String, limit: Int = maxFileBytes) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "no such file" }
        switch attributes[.type] as? FileAttributeType {
        case .typeRegular?: break
        case .typeDirectory?: return "is a directory"
        default: return "is not a regular file"
        }
        if let size = attributes[.size] as? Int, size > limit { return "larger than \(limit) bytes" }
        return FileManager.default.isReadableFile(atPath: path) ? nil : "permission denied"
    }

    /// The file's whole text, or why there is none. Bytes that are not UTF-8 are an error,
    /// never dropped or replaced.
    static func text(_ path: String, limit: Int = maxFileBytes) -> Result<String, Unreadable> {
        if let problem = problem(path, limit: limit) { return .failure(Unreadable(reason: problem)) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(Unreadable(reason: "cannot be read")) }
        guard data.count <= limit else { return .failure(Unreadable(reason: "larger than \(limit) bytes")) }
        guard let text = String(validating: data, as: UTF8.self) else {
            return .failure(Unreadable(reason: "is not UTF-8 text"))
        }
        return .success(text)
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
    static func document(_ path: String) throws -> Node? {
        switch text(path, limit: maxConfigBytes) {
        case .failure(let error):
            throw ConfigError(source: path, issues: [.init(field: "", message: "cannot read the file: \(error.reason)")])
        case .success(let text):
            return try parse(yaml: text, source: path)
        }
    }

    static func parse(yaml: String, source: String) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(source: source, issues: [.init(field: "", message: "not valid YAML: \(error)")])
        }
    }

    struct Unreadable: Error {
        var reason: String
    }
}
