import Foundation
@testable import RedisOCSPExporter
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

    /// The objects `kubectl kustomize` renders from an overlay of examples/kubernetes.
    static func kustomize(_ overlay: String) async throws -> [[String: Any]] {
        let rendered = try await Subprocess.run(["kubectl", "kustomize", examples.appendingPathComponent("kubernetes/overlays/\(overlay)").path]).output
        return try Array(Yams.load_all(yaml: rendered)).compactMap { $0 as? [String: Any] }
    }

    static func object(_ documents: [[String: Any]], _ kind: String) throws -> [String: Any] {
        try #require(documents.first { $0["kind"] as? String == kind }, "no \(kind)")
    }

    static func dig(_ value: Any?, _ path: String...) -> Any? {
        path.reduce(value) { ($0 as? [String: Any])?[$1] }
    }

    /// Both overlays render, their Service is what the ServiceMonitor selects and selects
    /// their pods, and the PrometheusRule carries exactly the rules of alerts/.
    @Test(arguments: ["sidecar", "standalone"])
    func kubernetesOverlaysRender(_ overlay: String) async throws {
        let documents = try await Self.kustomize(overlay)
        let workload = overlay == "sidecar" ? "Deployment" : "StatefulSet"
        #expect(Set(documents.compactMap { $0["kind"] as? String }) == ["Secret", "ConfigMap", workload, "Service", "ServiceMonitor", "PrometheusRule"])
        let pods = try Self.object(documents, workload)
        let containers = Self.dig(pods, "spec", "template", "spec", "containers") as? [[String: Any]] ?? []
        let exporter = try #require(containers.first { $0["name"] as? String == "redis-ocsp-exporter" })
        let args = exporter["args"] as? [String] ?? []
        #expect(args.contains("--config.file=/etc/redis-ocsp/config.yml"))
        if overlay == "sidecar" {
            #expect(containers.count == 2, "the exporter runs beside a client")
        } else {
            #expect(Self.dig(pods, "spec", "replicas") as? Int == 3)
            #expect(args.contains("--shard=$(POD_INDEX)/3"))
            let env = exporter["env"] as? [[String: Any]] ?? []
            #expect(env.contains { $0["name"] as? String == "POD_INDEX"
                && Self.dig($0, "valueFrom", "fieldRef", "fieldPath") as? String == "metadata.labels['apps.kubernetes.io/pod-index']" })
        }
        let podLabels = Self.dig(pods, "spec", "template", "metadata", "labels") as? [String: String] ?? [:]
        let service = try Self.object(documents, "Service")
        let selector = Self.dig(service, "spec", "selector") as? [String: String] ?? [:]
        #expect(!selector.isEmpty && selector.allSatisfy { podLabels[$0.key] == $0.value }, "the Service selects no pod of the \(workload)")
        let serviceLabels = Self.dig(service, "metadata", "labels") as? [String: String] ?? [:]
        let monitor = try Self.object(documents, "ServiceMonitor")
        let wanted = Self.dig(monitor, "spec", "selector", "matchLabels") as? [String: String] ?? [:]
        #expect(!wanted.isEmpty && wanted.allSatisfy { serviceLabels[$0.key] == $0.value }, "the ServiceMonitor does not select the Service")
        #expect(serviceLabels["job-name"] == "redis-ocsp", "alerts/ expect job=redis-ocsp")
        let ports = (Self.dig(service, "spec", "ports") as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect((Self.dig(monitor, "spec", "endpoints") as? [[String: Any]] ?? []).allSatisfy { ports.contains($0["port"] as? String ?? "") })

        let volumes = (Self.dig(pods, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? [])
        #expect(volumes.contains { Self.dig($0, "configMap", "name") as? String == Self.dig(try? Self.object(documents, "ConfigMap"), "metadata", "name") as? String })
        #expect(volumes.contains { Self.dig($0, "secret", "secretName") as? String == Self.dig(try? Self.object(documents, "Secret"), "metadata", "name") as? String })

        let groups = Self.dig(try Self.object(documents, "PrometheusRule"), "spec", "groups") as? [Any]
        let alerts = try Yams.load(yaml: String(contentsOfFile: AlertRulesTests.rulesFile, encoding: .utf8)) as? [String: Any]
        #expect(groups.map { NSArray(array: $0) } == (alerts?["groups"] as? [Any]).map { NSArray(array: $0) },
                "the PrometheusRule's groups differ from alerts/redis-ocsp.rules.yml")
    }

    /// The configuration in the ConfigMap is one the exporter accepts, read from the files as
    /// Kubernetes mounts them: the ConfigMap's and the Secret's keys as links into `..data`.
    @Test func theKubernetesConfigurationIsValid() async throws {
        let documents = try await Self.kustomize("standalone")
        let yaml = try #require(Self.dig(try Self.object(documents, "ConfigMap"), "data", "config.yml") as? String)
        let password = try #require(Self.dig(try Self.object(documents, "Secret"), "stringData", "password") as? String)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (ca, _, _) = try await TestCertificates.make(in: directory)
        let configMap = try MountedFilesTests.Volume(), secret = try MountedFilesTests.Volume()
        try secret.publish(["password": password])
        let local = yaml.replacingOccurrences(of: "/run/secrets/redis-ocsp/password", with: secret.path("password"))
            .replacingOccurrences(of: "/etc/redis-ocsp/ca.pem", with: configMap.path("ca.pem"))
        try configMap.publish(["config.yml": local, "ca.pem": try String(contentsOfFile: ca, encoding: .utf8)])
        let config = try ConfigLoader.load(file: configMap.path("config.yml"))
        #expect(config.clusters.map(\.name) == ["prod-east"])
        #expect(config.clusters[0].credentials?.password.value == password)
    }
}
