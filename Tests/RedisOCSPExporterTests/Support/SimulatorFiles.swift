import Foundation
import OCSPSimulator

/// A fresh temporary folder with what a configuration for a simulator names: its CA
/// certificate and a password file.
struct SimulatorFiles {
    let directory: URL
    let ca: String
    let passwordFile: String

    init(_ simulator: SimulatorServer, password: String = "simulated", prefix: String = "sim") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        ca = directory.appendingPathComponent("ca.pem").path
        passwordFile = directory.appendingPathComponent("pw").path
        try simulator.ca.caCertificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
