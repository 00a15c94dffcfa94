import Foundation
import OCSPSimulator
import NIOConcurrencyHelpers

/// A throwaway CA made with the openssl CLI, its real OCSP responder (`openssl ocsp -port`)
/// on loopback, and real TLS servers (`openssl s_server`) that staple what a case needs.
final class StaplingPKI: Sendable {
    let directory: URL
    let responderPort: Int
    private let processes: NIOLockedValueBox<[Process]>

    /// The stapling cases: each names the served certificate and what is stapled.
    enum Server: String, CaseIterable, Sendable {
        /// A GOOD response fetched from the responder.
        case good
        /// s_server -status: the server asks the responder itself (TLS 1.2).
        case live
        /// A REVOKED response fetched from the responder, for a revoked certificate.
        case revoked
        /// A GOOD response for the revoked certificate, signed before it was revoked.
        case outdated
        /// A GOOD response whose nextUpdate passed a day ago.
        case expired
        /// A response for the right certificate signed by a key that is not the issuer's.
        case wrongKey = "wrong_key"
        /// A valid response, but for another certificate.
        case otherCertificate = "other_certificate"
        /// No staple at all.
        case none
        /// GOOD, signed by a delegated responder certificate (OCSPSigning, issued by the CA).
        case delegated
        /// Signed by a certificate the CA issued without the OCSPSigning usage.
        case delegatedNoEKU = "delegated_no_eku"
        /// Signed by an OCSPSigning certificate another CA issued.
        case delegatedOtherCA = "delegated_other_ca"
        /// Signed by the CA's responder certificate that expired.
        case delegatedExpired = "delegated_expired"
    }

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stapling-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        responderPort = try FreePort.reserveForChildProcess()
        processes = NIOLockedValueBox([])
        try """
            [ca]
            default_ca = ca_default
            [ca_default]
            dir = .
            database = index.txt
            new_certs_dir = .
            serial = serial
            default_md = sha256
            policy = policy_any
            default_days = 90
            [policy_any]
            commonName = supplied
            [leaf_ext]
            basicConstraints = CA:false
            keyUsage = digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost, IP:127.0.0.1
            authorityInfoAccess = OCSP;URI:http://127.0.0.1:\(responderPort)
            [responder_ext]
            basicConstraints = CA:false
            keyUsage = digitalSignature
            extendedKeyUsage = OCSPSigning
            [plain_ext]
            basicConstraints = CA:false
            keyUsage = digitalSignature
            """.write(to: file("ca.cnf"), atomically: true, encoding: .utf8)
        try "".write(to: file("index.txt"), atomically: true, encoding: .utf8)
        try "1000\n".write(to: file("serial"), atomically: true, encoding: .utf8)
        try await openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
                          "-out", "ca.pem", "-days", "90", "-subj", "/CN=Stapling Test CA")
        try await openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "rogue.key",
                          "-out", "rogue.pem", "-days", "90", "-subj", "/CN=Rogue Responder")
        for name in ["leaf", "other", "revokee"] {
            try await openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                              "-out", "\(name).csr", "-subj", "/CN=\(name)")
            try await openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-extensions", "leaf_ext",
                              "-in", "\(name).csr", "-out", "\(name).pem")
            try await openssl("ocsp", "-issuer", "ca.pem", "-cert", "\(name).pem", "-no_nonce", "-reqout", "\(name).req")
        }
        // Signed offline (`-reqin`) where the case needs what a live responder would not give.
        try await sign("revokee.req", out: "outdated.der", minutes: 180)
        try await openssl("ca", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-revoke", "revokee.pem")
        try await sign("leaf.req", out: "wrong_key.der", minutes: 180, signer: "rogue")
        try await sign("leaf.req", out: "expired.der", minutes: 24 * 60, shift: "-2d")
        // A newer answer for leaf than the one the good server staples.
        try await sign("leaf.req", out: "newer.der", minutes: 240)

        // Delegated responders, as most CAs sign: a proper one, one without OCSPSigning, one
        // another CA issued, one that expired; each signs a GOOD answer for leaf.
        let responders: [(name: String, issue: [String])] = [
            ("responder", ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-extensions", "responder_ext"]),
            ("no_eku", ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-extensions", "plain_ext"]),
            ("expired_responder", ["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-extensions", "responder_ext",
                                   "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"]),
        ]
        for (name, issue) in responders {
            try await openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                              "-out", "\(name).csr", "-subj", "/CN=\(name)")
            try await Subprocess.run(["openssl"] + issue + ["-in", "\(name).csr", "-out", "\(name).pem"], directory: directory.path)
        }
        try "extendedKeyUsage=OCSPSigning\n".write(to: file("responder.ext"), atomically: true, encoding: .utf8)
        try await openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other_responder.key",
                          "-out", "other_responder.csr", "-subj", "/CN=other_responder")
        try await openssl("x509", "-req", "-in", "other_responder.csr", "-CA", "rogue.pem", "-CAkey", "rogue.key", "-set_serial", "77",
                          "-days", "90", "-extfile", "responder.ext", "-out", "other_responder.pem")
        for (server, signer) in [(Server.delegated, "responder"), (.delegatedNoEKU, "no_eku"), (.delegatedOtherCA, "other_responder"),
                                 (.delegatedExpired, "expired_responder")] {
            try await sign("leaf.req", out: "\(server.rawValue).der", minutes: 180, signer: signer)
        }

        // A chain of the server's own making: a leaf for localhost issued by the rogue key's
        // self-signed certificate, and a GOOD answer for it signed by that key.
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(to: file("forged.ext"), atomically: true, encoding: .utf8)
        try await openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "forged.key",
                          "-out", "forged.csr", "-subj", "/CN=localhost")
        try await openssl("x509", "-req", "-in", "forged.csr", "-CA", "rogue.pem", "-CAkey", "rogue.key", "-set_serial", "4242",
                          "-days", "90", "-extfile", "forged.ext", "-out", "forged.pem")
        try await openssl("ocsp", "-issuer", "rogue.pem", "-cert", "forged.pem", "-no_nonce", "-reqout", "forged.req")
        try "V\t491231235959Z\t\t1092\tunknown\t/CN=localhost\n".write(to: file("forged-index.txt"), atomically: true, encoding: .utf8)
        try await Subprocess.run(["openssl", "ocsp", "-index", "forged-index.txt", "-CA", "rogue.pem", "-rsigner", "rogue.pem", "-rkey", "rogue.key",
                                  "-reqin", "forged.req", "-respout", "forged.der", "-nmin", "180"], directory: directory.path)

        try start(["openssl", "ocsp", "-index", "index.txt", "-port", "\(responderPort)", "-rsigner", "ca.pem", "-rkey", "ca.key",
                   "-CA", "ca.pem", "-nmin", "180"])
        try await fetch("leaf", out: "good.der")
        try await fetch("revokee", out: "revoked.der")
        try await fetch("other", out: "other_certificate.der")
    }

    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
    func path(_ name: String) -> String { file(name).path }

    @discardableResult
    private func openssl(_ arguments: String...) async throws -> String {
        try await Subprocess.run(["openssl"] + arguments, directory: directory.path).output
    }

    /// An OCSP response made by `openssl ocsp` in responder mode from a saved request.
    private func sign(_ request: String, out: String, minutes: Int, signer: String = "ca", shift: String? = nil) async throws {
        let command = ["openssl", "ocsp", "-index", "index.txt", "-CA", "ca.pem", "-rsigner", "\(signer).pem", "-rkey", "\(signer).key",
                       "-reqin", request, "-respout", out, "-nmin", "\(minutes)"]
        try await Subprocess.run((shift.map { ["faketime", "-f", $0] } ?? []) + command, directory: directory.path)
    }

    /// A response fetched from the running responder over HTTP, as a cluster fetches it.
    private func fetch(_ certificate: String, out: String) async throws {
        try await query(port: responderPort, about: certificate, arguments: ["-CAfile", "ca.pem", "-respout", out])
    }

    /// Asks the responder on `port` until it answers (it starts in the background).
    private func query(port: Int, about certificate: String = "leaf", arguments: [String] = ["-noverify"]) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let (status, output) = try await Subprocess.run(
                ["openssl", "ocsp", "-issuer", "ca.pem", "-cert", "\(certificate).pem", "-url", "http://127.0.0.1:\(port)"] + arguments,
                directory: directory.path, allowFailure: true)
            if status == 0 { return }
            guard ContinuousClock.now < deadline else { throw HarnessError("OCSP responder did not answer: \(output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    private func start(_ arguments: [String]) throws {
        let process = try Subprocess.start(arguments, directory: directory)
        processes.withLockedValue { $0.append(process) }
    }

    /// Another real `openssl ocsp` responder for the CA's index, signing with `signer`'s key
    /// (`rogue`: a key that is not the CA's); returns its port once it accepts.
    func startResponder(signer: String) async throws -> Int {
        let port = try FreePort.reserveForChildProcess()
        try start(["openssl", "ocsp", "-index", "index.txt", "-port", "\(port)", "-rsigner", "\(signer).pem", "-rkey", "\(signer).key",
                   "-CA", "ca.pem", "-nmin", "180"])
        // Ready once it answers a query: a connection that sends nothing wedges `openssl ocsp`.
        try await query(port: port)
        return port
    }

    /// Starts an `openssl s_server` for the case on a free loopback port; returns the port.
    func startServer(_ server: Server) async throws -> Int {
        let port = try FreePort.reserveForChildProcess()
        let certificate = [.revoked, .outdated].contains(server) ? "revokee" : "leaf"
        var arguments = ["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-www", "-cert", path("\(certificate).pem"),
                         "-key", path("\(certificate).key")]
        switch server {
        case .none: break
        case .live: arguments += ["-status", "-CAfile", path("ca.pem"), "-tls1_2"]
        default: arguments += ["-status_file", path("\(server.rawValue).der")]
        }
        try start(arguments)
        try await RawConnection.waitUntilAccepting(port: port)
        return port
    }

    /// An `openssl s_server` presenting the forged leaf with its rogue issuer and stapling the
    /// rogue's GOOD answer; returns the port.
    func startForgedServer() async throws -> Int {
        let port = try FreePort.reserveForChildProcess()
        try start(["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-www", "-cert", path("forged.pem"), "-key", path("forged.key"),
                   "-cert_chain", path("rogue.pem"), "-status_file", path("forged.der")])
        try await RawConnection.waitUntilAccepting(port: port)
        return port
    }

    /// What `openssl ocsp -resp_text` reads from a response file: for the simulator to
    /// report the same certificate's status through the REST API.
    func status(of response: String) async throws -> CertificateStatus {
        let text = try await openssl("ocsp", "-respin", response, "-resp_text", "-noverify")
        func date(_ label: String) -> Int64? {
            guard let line = text.split(separator: "\n").first(where: { $0.contains(label + ": ") }) else { return nil }
            return Self.unixTime(line.components(separatedBy: label + ": ")[1])
        }
        let status = text.split(separator: "\n").first { $0.contains("Cert Status: ") }.map {
            $0.components(separatedBy: "Cert Status: ")[1].trimmingCharacters(in: .whitespaces).uppercased()
        }
        guard let status, let produced = date("Produced At"), let this = date("This Update"), let next = date("Next Update") else {
            throw HarnessError("cannot read \(response): \(text)")
        }
        return CertificateStatus(certStatus: status, producedAt: produced, thisUpdate: this, nextUpdate: next,
                                 revocationTime: date("Revocation Time"))
    }

    /// notAfter of a certificate, as Unix time, read by the openssl CLI.
    func notAfter(_ certificate: String) async throws -> Int64 {
        let text = try await openssl("x509", "-in", "\(certificate).pem", "-noout", "-enddate")
        guard let time = Self.unixTime(text.replacingOccurrences(of: "notAfter=", with: "")) else {
            throw HarnessError("cannot read notAfter: \(text)")
        }
        return time
    }

    /// The lower-case hex SHA-256 of a certificate's DER, read by the openssl CLI.
    func sha256(_ certificate: String) async throws -> String {
        let text = try await openssl("x509", "-in", "\(certificate).pem", "-noout", "-fingerprint", "-sha256")
        return String(text.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
    }

    /// OpenSSL prints times as "Nov  7 13:21:45 2026 GMT".
    static func unixTime(_ text: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy zzz"
        let value = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return formatter.date(from: value).map { Int64($0.timeIntervalSince1970) }
    }

    func stop() {
        processes.withLockedValue { $0 }.forEach(Subprocess.stop)
        try? FileManager.default.removeItem(at: directory)
    }
}
