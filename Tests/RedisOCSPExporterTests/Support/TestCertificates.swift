import Foundation

/// Certificates made with the openssl command-line tool, as users make theirs.
enum TestCertificates {
    /// A CA and a client certificate with its key, in `directory`; returns their paths.
    static func make(in directory: URL) async throws -> (ca: String, cert: String, key: String) {
        let dir = directory.path
        try await run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem", "-days", "2", "-subj", "/CN=Test CA")
        try await run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/client.key", "-out", "\(dir)/client.csr", "-subj", "/CN=client")
        try await run("openssl", "x509", "-req", "-in", "\(dir)/client.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-CAcreateserial", "-out", "\(dir)/client.pem", "-days", "2")
        return ("\(dir)/ca.pem", "\(dir)/client.pem", "\(dir)/client.key")
    }

    /// A CA and, signed by it, a server certificate for 127.0.0.1 and localhost and a client
    /// certificate; plus a client certificate from another CA. Returns their paths by name.
    static func makeServerAndClients(in directory: URL) async throws -> [String: String] {
        let dir = directory.path
        let (ca, client, clientKey) = try await make(in: directory)
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".write(toFile: "\(dir)/server.ext", atomically: true, encoding: .utf8)
        try await run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr", "-subj", "/CN=localhost")
        try await run("openssl", "x509", "-req", "-in", "\(dir)/server.csr", "-CA", ca, "-CAkey", "\(dir)/ca.key",
                "-CAcreateserial", "-out", "\(dir)/server.pem", "-days", "2", "-extfile", "\(dir)/server.ext")
        let other = directory.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        let (_, otherClient, otherKey) = try await make(in: other)
        return ["ca": ca, "server": "\(dir)/server.pem", "serverKey": "\(dir)/server.key", "client": client, "clientKey": clientKey,
                "otherClient": otherClient, "otherClientKey": otherKey]
    }

    @discardableResult
    static func run(_ arguments: String...) async throws -> String {
        try await Subprocess.run(arguments).output
    }
}
