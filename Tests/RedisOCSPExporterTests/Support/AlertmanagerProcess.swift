import AsyncHTTPClient
import Foundation
import NIOCore

/// A real Alertmanager (Debian's prometheus-alertmanager) on a free loopback port.
final class AlertmanagerProcess: Sendable {
    let port: Int
    let directory: URL
    private let process: Process

    var url: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        port = try FreePort.reserve()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("alertmanager-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("alertmanager.yml").path
        try """
            route:
              receiver: blackhole
              group_wait: 1s
            receivers:
              - name: blackhole
            """.write(toFile: config, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["prometheus-alertmanager", "--config.file=\(config)", "--storage.path=\(directory.path)",
                             "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=", "--log.level=warn"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await get("/-/ready"), status == 200 { return }
            guard process.isRunning else { throw HarnessError("alertmanager exited at start (status \(process.terminationStatus))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        stop()
        throw HarnessError("alertmanager did not become ready on port \(port)")
    }

    func get(_ path: String) async throws -> (Int, String) {
        let response = try await ExporterHarness.client.execute(HTTPClientRequest(url: url + path), timeout: .seconds(5))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    /// The alerts Alertmanager holds as active (resolved ones are not listed).
    func alerts() async throws -> [[String: Any]] {
        let (_, body) = try await get("/api/v2/alerts")
        return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]]) ?? []
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
