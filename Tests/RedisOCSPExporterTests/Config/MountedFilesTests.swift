import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import Testing

/// Configuration and secret files as Kubernetes mounts them: each name a symbolic link into
/// `..data`, itself a link to a timestamped folder that an update replaces by swapping the link.
@Suite(.tags(.unit))
struct MountedFilesTests {
    /// A ConfigMap or Secret volume: writes `files` into a new timestamped folder and points
    /// `..data` at it in one rename, as the kubelet's atomic writer does.
    final class Volume {
        let root: URL
        private var generation = 0

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("volume-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        }

        func path(_ name: String) -> String { root.appendingPathComponent(name).path }

        func publish(_ files: [String: String]) throws {
            generation += 1
            let folder = "..2026_12_02_00_0\(generation)_00.\(generation)"
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: false)
            for (name, content) in files {
                try content.write(to: root.appendingPathComponent(folder).appendingPathComponent(name), atomically: false, encoding: .utf8)
                if (try? FileManager.default.destinationOfSymbolicLink(atPath: path(name))) == nil {
                    try FileManager.default.createSymbolicLink(atPath: path(name), withDestinationPath: "..data/\(name)")
                }
            }
            try FileManager.default.createSymbolicLink(atPath: path("..data_tmp"), withDestinationPath: folder)
            guard rename(path("..data_tmp"), path("..data")) == 0 else { throw HarnessError("rename ..data_tmp: errno \(errno)") }
        }

        deinit { try? FileManager.default.removeItem(at: root) }
    }

    func config(_ volume: Volume, name: String) -> String {
        """
        clusters:
          - name: \(name)
            url: https://re.example.com:9443
            username: ocsp-monitor@example.com
            password_file: \(volume.path("password"))
            tls: {ca_file: \(volume.path("ca.pem"))}
        """
    }

    @Test func theKubernetesLayoutIsReadAndARotationIsPickedUp() throws {
        let volume = try Volume()
        let ca = try SimulatorCA().caCertificatePEM
        try volume.publish(["config.yml": config(volume, name: "first"), "password": "s3cret-1\n", "ca.pem": ca])
        let first = try ConfigLoader.load(file: volume.path("config.yml"))
        #expect(first.clusters.map(\.name) == ["first"])
        #expect(first.clusters[0].credentials?.password.value == "s3cret-1")

        // The update the kubelet makes: a new folder, then ..data swapped to it.
        try volume.publish(["config.yml": config(volume, name: "second"), "password": "s3cret-2\n", "ca.pem": ca])
        let second = try ConfigLoader.load(file: volume.path("config.yml"))
        #expect(second.clusters.map(\.name) == ["second"])
        #expect(second.clusters[0].credentials?.password.value == "s3cret-2")
    }

    @Test func aMountedWebConfigurationIsRead() throws {
        let volume = try Volume()
        try volume.publish(["web.yml": "http_server_config: {headers: {X-Test: mounted}}\n"])
        #expect(throws: Never.self) { try WebConfig.load(file: volume.path("web.yml")) }
    }

    /// Links are followed to what they point at, and that must still be a regular file.
    @Test func linksToWhatIsNoRegularFileAreRefused() throws {
        let volume = try Volume()
        let fifo = volume.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        for (target, reason) in [("/dev/zero", "is not a regular file"), (fifo, "is not a regular file"), ("/tmp", "is a directory"),
                                 (volume.path("missing"), "no such file")] {
            let link = volume.path("link-\(UUID().uuidString)")
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            #expect(ConfigFile.problem(link) == reason, "\(target)")
            #expect(throws: ConfigError.self) { try ConfigLoader.load(file: link) }
        }
    }

    /// A file is read whole up to the limit whatever size it reports: /proc's files report 0.
    @Test func filesAreReadWholeUpToTheLimit() throws {
        let volume = try Volume()
        try volume.publish(["exact": String(repeating: "x", count: 4096), "over": String(repeating: "x", count: 4097)])
        #expect(try ConfigFile.bytes(volume.path("exact"), limit: 4096).get().count == 4096)
        #expect(ConfigFile.problem(volume.path("over"), limit: 4096) == "larger than 4096 bytes")
        let status = try ConfigFile.text("/proc/self/status").get()
        #expect(status.hasPrefix("Name:") && status.contains("\nVmRSS:") && status.hasSuffix("\n"))
        #expect(ConfigFile.problem("/proc/self/status", limit: 64) == "larger than 64 bytes")
    }

    /// A syntax error names the file, line and column, never the text of the line, which may
    /// hold a password.
    @Test func yamlErrorsNeverShowTheLine() throws {
        for yaml in ["clusters:\n  - name: a\n    password: hunter2-SECRET: oops\n", "clusters: [{name: a, password: \"hunter2-SECRET}\n",
                     "clusters:\n\t- password: hunter2-SECRET\n"] {
            do {
                _ = try ConfigLoader.load(yaml: yaml, source: "c.yml")
                Issue.record("accepted: \(yaml)")
            } catch {
                let message = "\(error)"
                #expect(!message.contains("hunter2"), "\(message)")
                #expect(message.contains("c.yml") && message.contains("line "), "\(message)")
            }
        }
    }
}

extension MountedFilesTests {
    /// A URL refused as malformed is named without the credentials it may carry.
    @Test func aRefusedURLIsShownWithoutItsCredentials() {
        for url in ["https://admin:hunter2-SECRET@re example.com:9443", "admin:hunter2-SECRET@re.example.com:9443/x y"] {
            for yaml in ["clusters:\n  - {name: a, url: \"\(url)\"}\n",
                         "clusters:\n  - {name: a, url: \"https://x\"}\nalertmanager: {urls: [\"\(url)\"]}\n"] {
                do {
                    _ = try ConfigLoader.load(yaml: yaml, source: "c.yml")
                    Issue.record("accepted \(url)")
                } catch {
                    #expect(!"\(error)".contains("hunter2"), "\(error)")
                    #expect("\(error)".contains("<redacted>@re"), "\(error)")
                }
            }
        }
    }
}
