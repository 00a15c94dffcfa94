import Dispatch
import Foundation

/// Runs a command to completion on a thread of its own. Tests must not block the threads of
/// Swift concurrency: the servers they test run on those same few threads.
enum Subprocess {
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil, directory: String? = nil,
                    allowFailure: Bool = false) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = arguments
                    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = output
                    let stdin = Pipe()
                    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
                    try process.run()
                    if let input {
                        // A command that exits without reading its input (one that is not
                        // installed) is an answer, not a crash of the test process.
                        try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
                        try? stdin.fileHandleForWriting.close()
                    }
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    if process.terminationStatus != 0, !allowFailure {
                        throw HarnessError("\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
                    }
                    continuation.resume(returning: (process.terminationStatus, text))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Starts a server that runs until `stop`, its output discarded.
    static func start(_ arguments: [String], directory: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Stops a server started by `start` and waits for it. SIGKILL: `openssl ocsp` ignores
    /// SIGTERM while it waits in accept(), and a child may inherit a signal mask that blocks it.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
