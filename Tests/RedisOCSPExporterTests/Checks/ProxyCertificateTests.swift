import Foundation
import OCSPSimulator
@testable import RedisOCSPExporter
import RedisSoftwareAPI
import Testing

/// `GET /v1/cluster`: only `proxy_certificate` is read, as a fingerprint and notAfter; the rest
/// of the cluster object (its smtp_password among it) is never kept or shown.
struct ProxyCertificateTests {
    @Test(.tags(.unit)) func onlyTheCertificateIsRead() throws {
        let ca = try SimulatorCA()
        let object = try JSONSerialization.data(withJSONObject: [
            "name": "c", "smtp_password": SimulatedCluster.smtpPassword, "proxy_certificate": ca.serverCertificatePEM,
        ])
        let read = try ProxyCertificate.decode(try JSONValue.parse(Array(object)))
        #expect(read.certificate.sha256.count == 64)
        #expect(!"\(read)".contains(SimulatedCluster.smtpPassword))
        #expect(throws: DecodeError.self) { try ProxyCertificate.decode(try JSONValue.parse(Array(#"{"name": "c"}"#.utf8))) }
        #expect(throws: DecodeError.self) {
            try ProxyCertificate.decode(try JSONValue.parse(Array(#"{"proxy_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}"#.utf8)))
        }
    }

    @Test func theProxyCertificateIsExportedAndTheClusterObjectsSecretsAreNot() async throws {
        let cluster = SimulatedCluster(name: "c", scenario: .healthy)
        try await ExporterHarness.with([cluster], pollInterval: "1h") { harness in
            try await harness.waitForRounds(1)
            let pem = try #require(cluster.proxyCertificatePEM)
            let expected = try #require(CertificateInfo(pem: pem))
            let m = try await harness.metrics()
            #expect(m[#"redis_ocsp_proxy_cert_info{cluster="c",sha256="\#(expected.sha256)"}"#] == 1)
            #expect(m[#"redis_ocsp_proxy_cert_not_after_timestamp_seconds{cluster="c"}"#] == Double(expected.notAfter))
            #expect(m[#"redis_ocsp_api_up{cluster="c",endpoint="cluster"}"#] == 1)
            for path in ["/metrics", "/", "/api/v1/alerts", "/probe?target=c"] {
                let body = String(buffer: try await harness.get(path).body)
                #expect(!body.contains(SimulatedCluster.smtpPassword), "\(path)")
                #expect(!body.contains("BEGIN CERTIFICATE"), "\(path)")
            }
        }
    }
}
