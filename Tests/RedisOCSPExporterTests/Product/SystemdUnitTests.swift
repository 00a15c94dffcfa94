import Foundation
import Testing

/// examples/systemd/redis-ocsp-exporter.service: a unit systemd accepts as written, and
/// hardened (systemd's own exposure score at most 2.0 of 10).
struct SystemdUnitTests {
    static let unit = ExporterProcess.packageRoot.appendingPathComponent("examples/systemd/redis-ocsp-exporter.service").path

    /// `systemd-analyze verify` in a root holding what the unit names: systemd's own units,
    /// the binary where the unit expects it, and kill for ExecReload.
    @Test func systemdAcceptsTheUnit() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("systemd-root-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for dir in ["usr/lib/systemd", "usr/local/bin", "bin", "etc/systemd/system"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        try FileManager.default.copyItem(atPath: "/lib/systemd/system", toPath: root.appendingPathComponent("usr/lib/systemd/system").path)
        try FileManager.default.copyItem(atPath: try ExporterProcess.binary("redis-ocsp-exporter"),
                                         toPath: root.appendingPathComponent("usr/local/bin/redis-ocsp-exporter").path)
        try FileManager.default.copyItem(atPath: "/bin/kill", toPath: root.appendingPathComponent("bin/kill").path)
        try FileManager.default.copyItem(atPath: Self.unit, toPath: root.appendingPathComponent("etc/systemd/system/redis-ocsp-exporter.service").path)
        let (status, output) = try await Subprocess.run(["systemd-analyze", "verify", "--root=\(root.path)", "redis-ocsp-exporter.service"],
                                                        allowFailure: true)
        #expect(status == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify warns:\n\(output)")
    }

    @Test func theUnitIsHardened() async throws {
        let (status, output) = try await Subprocess.run(["systemd-analyze", "security", "--offline=yes", Self.unit], allowFailure: true)
        let score = output.split(separator: "\n").first { $0.contains("Overall exposure level") }
            .flatMap { $0.split(separator: ":").last?.split(separator: " ").first }.flatMap { Double($0) }
        #expect(try #require(score, "no score in: \(output.suffix(500))") <= 2.0, "\(output)")
        _ = status  // non-zero when the score is above the default threshold; the score is what counts
        for directive in ["DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                          "SystemCallFilter=@system-service", "RestrictAddressFamilies=", "LoadCredential=", "ExecReload=/bin/kill -HUP $MAINPID",
                          "EnvironmentFile=-/etc/default/redis-ocsp-exporter"] {
            #expect(try String(contentsOfFile: Self.unit, encoding: .utf8).contains(directive), "the unit lacks \(directive)")
        }
    }
}
