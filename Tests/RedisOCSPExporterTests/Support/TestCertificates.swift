import Foundation

/// Certificates made with the openssl command-line tool, as users make theirs.
enum TestCertificates {
    /// A CA and a client certificate with its key, in `directory`; returns their paths.
    static func make(in directory: URL) throws -> (ca: String, cert: String, key: String) {
        let dir = directory.path
        try run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem", "-days", "2", "-subj", "/CN=Test CA")
        try run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/client.key", "-out", "\(dir)/client.csr", "-subj", "/CN=client")
        try run("openssl", "x509", "-req", "-in", "\(dir)/client.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-CAcreateserial", "-out", "\(dir)/client.pem", "-days", "2")
        return ("\(dir)/ca.pem", "\(dir)/client.pem", "\(dir)/client.key")
    }

    static func run(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HarnessError("\(arguments.joined(separator: " ")) failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}
