import Foundation
import NIOConcurrencyHelpers

/// A built binary of this package (by default `redis-ocsp-exporter`) run as a user runs it,
/// with its output captured.
final class ExporterProcess: Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func binary(_ name: String) throws -> String {
        let path = packageRoot.appendingPathComponent(".build/debug/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) is missing: run `swift build` before the tests (the README's test command does)")
        }
        return path
    }

    private let process: Process
    private final class Output: Sendable {
        let text = NIOLockedValueBox<(stdout: String, stderr: String, closed: Int)>(("", "", 0))
    }

    private let output = Output()

    init(_ arguments: [String], environment: [String: String] = [:], executable: String = "redis-ocsp-exporter") throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary(executable))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (handle, isErr) in [(out.fileHandleForReading, false), (err.fileHandleForReading, true)] {
            // A thread per pipe reads until the end of file, which comes once the process and
            // everything it started have closed their end: then all they wrote is here.
            Thread.detachNewThread { [output] in
                while true {
                    let data = handle.availableData
                    let text = String(decoding: data, as: UTF8.self)
                    output.text.withLockedValue {
                        if data.isEmpty { $0.closed += 1 } else if isErr { $0.stderr += text } else { $0.stdout += text }
                    }
                    if data.isEmpty { return }
                }
            }
        }
    }

    var stdout: String { output.text.withLockedValue { $0.stdout } }
    var stderr: String { output.text.withLockedValue { $0.stderr } }

    /// Runs to completion; for commands that exit by themselves.
    static func run(_ arguments: [String], environment: [String: String] = [:],
                    executable: String = "redis-ocsp-exporter") async throws -> (status: Int32, stdout: String, stderr: String) {
        let p = try ExporterProcess(arguments, environment: environment, executable: executable)
        let status = try await p.waitForExit(timeout: .seconds(30))
        return (status, p.stdout, p.stderr)
    }

    /// The port from the "listening" log line.
    func listeningPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            // Either log format: msg=listening address=127.0.0.1:N or "msg":"listening",...,"address":"127.0.0.1:N".
            if let line = stderr.split(separator: "\n").first(where: { $0.contains("msg=listening") || $0.contains(#""msg":"listening""#) }),
               let range = line.range(of: "127.0.0.1:"),
               let port = Int(line[range.upperBound...].prefix { $0.isNumber })
            {
                return port
            }
            guard process.isRunning else { throw HarnessError("exporter exited: \(stderr)") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("exporter did not log that it listens: \(stderr)")
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw HarnessError("exporter did not exit within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Everything the process wrote is read once both pipes reach their end.
        try await waitUntil("the end of the exporter's output") { output.text.withLockedValue { $0.closed == 2 } }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}
