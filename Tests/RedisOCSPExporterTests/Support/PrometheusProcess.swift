import AsyncHTTPClient
import Foundation
import NIOCore

/// A real Prometheus server (Debian's prometheus) on a free loopback port.
final class PrometheusProcess: Sendable {
    let port: Int
    let directory: URL
    private let process: Process

    var url: String { "http://127.0.0.1:\(port)" }

    /// - Parameter config: the prometheus.yml text.
    init(config: String, directory: URL) async throws {
        port = try FreePort.reserve()
        self.directory = directory
        let configFile = directory.appendingPathComponent("prometheus.yml").path
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["prometheus", "--config.file=\(configFile)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
                             "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"]
        let logPath = directory.appendingPathComponent("prometheus.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let (status, _) = try? await get("/-/ready"), status == 200 { return }
            guard process.isRunning else { throw HarnessError("prometheus exited at start: \(self.log)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        stop()
        throw HarnessError("prometheus did not become ready: \(self.log)")
    }

    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
    }

    func get(_ path: String) async throws -> (Int, String) {
        let response = try await ExporterHarness.client.execute(HTTPClientRequest(url: url + path), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 16 << 20)))
    }

    /// The `data` of an API answer; throws with Prometheus's own error text when it refuses.
    func api(_ path: String, _ parameters: [(String, String)] = []) async throws -> Any {
        var components = URLComponents()
        components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // URLComponents leaves + unescaped, which a query string reads as a space.
        let query = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let (status, body) = try await get("/api/v1/\(path)" + (query.isEmpty ? "" : "?\(query)"))
        guard let document = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              document["status"] as? String == "success", let data = document["data"]
        else { throw HarnessError("Prometheus answered \(status) to \(path) \(parameters): \(body.prefix(500))") }
        return data
    }

    /// The series an instant query returns.
    func query(_ expression: String) async throws -> [[String: Any]] {
        let data = try await api("query", [("query", expression)]) as? [String: Any]
        return data?["result"] as? [[String: Any]] ?? []
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
