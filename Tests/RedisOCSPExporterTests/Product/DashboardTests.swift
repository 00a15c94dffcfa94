import Foundation
import Testing
import Yams

/// dashboards/redis-ocsp-overview.json imports on grafana.com and by provisioning: its
/// structure is checked here, its queries by the stack test against a real Prometheus.
struct DashboardTests {
    static let file = ExporterProcess.packageRoot.appendingPathComponent("dashboards/redis-ocsp-overview.json")

    static func panels(_ list: [[String: Any]]) -> [[String: Any]] {
        list.flatMap { [$0] + panels($0["panels"] as? [[String: Any]] ?? []) }
    }

    @Test func theDashboardImportsAnywhere() throws {
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.file)) as? [String: Any])
        #expect(dashboard["schemaVersion"] as? Int == 41)
        #expect(dashboard["id"] == nil, "an instance-specific id")
        let inputs = dashboard["__inputs"] as? [[String: Any]] ?? []
        #expect(inputs.contains { $0["name"] as? String == "DS_PROMETHEUS" && $0["type"] as? String == "datasource" && $0["pluginId"] as? String == "prometheus" })
        let requires = dashboard["__requires"] as? [[String: Any]] ?? []
        #expect(requires.contains { $0["id"] as? String == "grafana" })
        #expect(requires.contains { $0["id"] as? String == "prometheus" && $0["type"] as? String == "datasource" })

        let panels = Self.panels(dashboard["panels"] as? [[String: Any]] ?? [])
        #expect(panels.count >= 15)
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count && Set(ids).count == ids.count, "panel ids missing or repeated: \(ids.sorted())")
        let required = Set(requires.filter { $0["type"] as? String == "panel" }.compactMap { $0["id"] as? String })
        for panel in panels where panel["type"] as? String != "row" {
            let title = panel["title"] as? String ?? "?"
            #expect(required.contains(panel["type"] as? String ?? ""), "\(title): panel type \(panel["type"] ?? "") not in __requires")
            let sources = [panel["datasource"]] + (panel["targets"] as? [[String: Any]] ?? []).map { $0["datasource"] }
            for source in sources {
                let uid = (source as? [String: Any])?["uid"] as? String
                #expect(uid == "${datasource}", "\(title): data source \(String(describing: source)) is not the variable")
            }
        }
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        #expect(variables.first { $0["name"] as? String == "datasource" }?["type"] as? String == "datasource")
        for variable in variables where variable["type"] as? String == "query" {
            #expect(((variable["datasource"] as? [String: Any])?["uid"] as? String) == "${datasource}", "\(variable["name"] ?? "")")
        }
    }

    @Test func theProvisioningExampleLoadsThisFolder() throws {
        let provider = try Yams.load(yaml: String(contentsOf: ExporterProcess.packageRoot.appendingPathComponent(
            "examples/grafana/provisioning/dashboards/redis-ocsp.yml"), encoding: .utf8)) as? [String: Any]
        let providers = provider?["providers"] as? [[String: Any]] ?? []
        #expect(providers.first?["type"] as? String == "file")
        #expect(((providers.first?["options"] as? [String: Any])?["path"] as? String)?.hasPrefix("/var/lib/grafana/dashboards") == true)
        let sources = try Yams.load(yaml: String(contentsOf: ExporterProcess.packageRoot.appendingPathComponent(
            "examples/grafana/provisioning/datasources/prometheus.yml"), encoding: .utf8)) as? [String: Any]
        #expect((sources?["datasources"] as? [[String: Any]])?.first?["type"] as? String == "prometheus")
    }
}
