import RedisSoftwareAPI
import Testing

@Suite(.tags(.unit))
struct ClusterAlertsDecodingTests {
    func decode(_ text: String) throws -> ClusterAlerts {
        try ClusterAlerts.decode(try JSONValue.parse(Array(text.utf8)))
    }

    /// `state` is a boolean in the object table and "off" in the request page's example;
    /// anything else makes that one alert unreadable, not the answer.
    @Test func stateReadsBooleansAndOnOffAndNothingElse() throws {
        let alerts = try decode("""
            {"cluster_ocsp_query_failed": {"state": true, "enabled": false, "change_time": "2026-11-30T08:00:00Z"},
             "cluster_ocsp_status_revoked": {"state": "off", "enabled": true},
             "cluster_certs_about_to_expire": {"state": "on"},
             "cluster_ca_cert_about_to_expire": {"state": 1, "change_time": "Mon, 30 Nov 2026 08:00:00 GMT"},
             "cluster_ram_overcommit": {"state": true}}
            """).alerts
        #expect(alerts["cluster_ocsp_query_failed"] == .init(triggered: true, enabled: false, changeTime: 1_796_025_600))
        #expect(alerts["cluster_ocsp_status_revoked"] == .init(triggered: false, enabled: true, changeTime: nil))
        #expect(alerts["cluster_certs_about_to_expire"]?.triggered == true)
        // Not a boolean and not on/off; an HTTP date is not ISO 8601.
        #expect(alerts["cluster_ca_cert_about_to_expire"] == .init(triggered: nil, enabled: nil, changeTime: nil))
        #expect(alerts["cluster_ram_overcommit"] == nil, "names that do not concern OCSP are not kept")
    }

    @Test func anAnswerThatIsNotAnObjectIsInvalid() {
        #expect(throws: DecodeError.self) { try decode("[]") }
    }
}
