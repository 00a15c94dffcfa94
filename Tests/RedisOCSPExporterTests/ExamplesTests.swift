import Foundation
import Testing
import Yams

/// examples/ stays valid: every file parses, Prometheus accepts the configurations, and the
/// Kubernetes PrometheusRule carries exactly the rules of alerts/.
struct ExamplesTests {
    static let examples = ExporterProcess.packageRoot.appendingPathComponent("examples")

    static func yamlFiles() throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: examples, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { ["yml", "yaml"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
    }

    @Test func everyExampleIsValidYAML() throws {
        let files = try Self.yamlFiles()
        #expect(files.count >= 4)
        for file in files {
            let documents = try Array(Yams.load_all(yaml: String(contentsOf: file, encoding: .utf8)))
            #expect(!documents.isEmpty, "\(file.lastPathComponent) is empty")
        }
    }

    @Test(arguments: ["prometheus.yml", "prometheus-file-sd.yml"])
    func prometheusAcceptsTheScrapeConfiguration(_ name: String) async throws {
        let (status, output) = try await AlertRulesTests.promtool(["check", "config", "--syntax-only", Self.examples.appendingPathComponent(name).path])
        #expect(status == 0, "\(output)")
    }

    @Test func fileSDTargetsHaveTheFileSDShape() throws {
        let text = try String(contentsOf: Self.examples.appendingPathComponent("file_sd/redis-ocsp-exporters.yml"), encoding: .utf8)
        let groups = try #require(try Yams.load(yaml: text) as? [[String: Any]])
        #expect(!groups.isEmpty)
        for group in groups {
            #expect((group["targets"] as? [String])?.allSatisfy { $0.contains(":") } == true)
        }
    }

    @Test func kubernetesSidecarExample() throws {
        let text = try String(contentsOf: Self.examples.appendingPathComponent("kubernetes/redis-ocsp-sidecar.yaml"), encoding: .utf8)
        let documents = try Array(Yams.load_all(yaml: text)).compactMap { $0 as? [String: Any] }
        let kinds = documents.compactMap { $0["kind"] as? String }
        #expect(Set(kinds) == ["Secret", "ConfigMap", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"])
        let deployment = try #require(documents.first { $0["kind"] as? String == "Deployment" })
        let containers = ((((deployment["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?["containers"] as? [[String: Any]]) ?? []
        #expect(containers.count == 2, "the exporter runs beside a client")
        let exporter = try #require(containers.first { $0["name"] as? String == "redis-ocsp-exporter" })
        #expect((exporter["args"] as? [String])?.contains("--config.file=/etc/redis-ocsp/config.yml") == true)

        let rule = try #require(documents.first { $0["kind"] as? String == "PrometheusRule" })
        let groups = (rule["spec"] as? [String: Any])?["groups"] as? [Any]
        let alerts = try Yams.load(yaml: String(contentsOfFile: AlertRulesTests.rulesFile, encoding: .utf8)) as? [String: Any]
        #expect(groups.map { NSArray(array: $0) } == (alerts?["groups"] as? [Any]).map { NSArray(array: $0) },
                "the PrometheusRule's groups differ from alerts/redis-ocsp.rules.yml")
    }
}
