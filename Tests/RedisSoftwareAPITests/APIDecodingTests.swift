import RedisSoftwareAPI
import Testing

@Suite(.tags(.unit))
struct APIDecodingTests {
    /// Each value keeps its JSON type: true is not 1, 1 is not true, "1" is not a number.
    @Test func valuesKeepTheirJSONTypes() throws {
        let value = try JSONValue.parse(Array(#"[true, 1, "1", null, 2.5, {"a": [false, "x"]}, []]"#.utf8))
        #expect(value == .array([.bool(true), .number(1), .string("1"), .null, .number(2.5),
                                 .object(["a": .array([.bool(false), .string("x")])]), .array([])]))
    }

    func decode<T: APIObject>(_ json: String, as: T.Type) throws(DecodeError) -> T {
        try T.decode(try JSONValue.parse(Array(json.utf8)))
    }

    @Test func configFromTheReferenceExample() throws {
        let config = try decode("""
            {"ocsp_functionality": true, "responder_url": "http://responder.ocsp.url.com", "query_frequency": 3800,
             "response_timeout": 2, "recovery_frequency": 80, "recovery_max_tries": 20, "undocumented": {"x": [1]}}
            """, as: OCSPConfig.self)
        #expect(config == OCSPConfig(enabled: true, responderURL: "http://responder.ocsp.url.com", queryFrequency: 3800,
                                     responseTimeout: 2, recoveryFrequency: 80, recoveryMaxTries: 20))
    }

    @Test func integersMayArriveWithAZeroFraction() throws {
        let config = try decode(#"{"ocsp_functionality": false, "query_frequency": 3800.0}"#, as: OCSPConfig.self)
        #expect(config.queryFrequency == 3800)
        #expect(config.responderURL == nil)
        #expect(!config.hasResponderURL)
    }

    @Test(arguments: [
        #"{"ocsp_functionality": true, "query_frequency": "3800"}"#,
        #"{"ocsp_functionality": true, "query_frequency": 3800.5}"#,
        #"{"ocsp_functionality": "true"}"#,
        #"{"ocsp_functionality": 1}"#,
        #"{"query_frequency": 3600}"#,
        #"{"ocsp_functionality": true, "responder_url": 5}"#,
        #"[]"#, #"null"#, #"{"ocsp_functionality": tru"#, "",
    ])
    func invalidConfigs(_ json: String) {
        #expect(throws: DecodeError.self) { try decode(json, as: OCSPConfig.self) }
    }

    @Test func statusFromTheReferenceExample() throws {
        let status = try decode("""
            {"responder_url": "http://responder.ocsp.url.com", "cert_status": "REVOKED",
             "produced_at": "Wed, 22 Dec 2021 12:50:11 GMT", "this_update": "Wed, 22 Dec 2021 12:50:11 GMT",
             "next_update": "Wed, 22 Dec 2021 14:50:00 GMT", "revocation_time": "Wed, 22 Dec 2021 12:50:04 GMT"}
            """, as: OCSPStatus.self)
        #expect(status.certStatus == .revoked)
        #expect(status.producedAt == 1_640_177_411)
        #expect(status.nextUpdate == 1_640_184_600)
        #expect(status.revocationTime == 1_640_177_404)
        #expect(status.unparsedDates.isEmpty)
    }

    @Test func unparseableDatesAreLeftOutAndRemembered() throws {
        let status = try decode(#"{"cert_status": "GOOD", "next_update": "tomorrow", "this_update": null}"#, as: OCSPStatus.self)
        #expect(status.nextUpdate == nil)
        #expect(status.thisUpdate == nil)
        #expect(status.unparsedDates == ["next_update": "tomorrow"])
    }

    @Test(arguments: [("GOOD", OCSPStatus.CertStatus.good), ("good", .good), ("REVOKED", .revoked), ("UNKNOWN", .unknown),
                      ("ON_HOLD", .unknown), ("", .unknown)])
    func certStatusOutsideTheThreeIsUnknown(_ raw: String, _ expected: OCSPStatus.CertStatus) throws {
        #expect(try decode(#"{"cert_status": "\#(raw)"}"#, as: OCSPStatus.self).certStatus == expected)
    }

    @Test func statusNeedsCertStatus() {
        #expect(throws: DecodeError.self) { try decode(#"{"responder_url": "x"}"#, as: OCSPStatus.self) }
    }

    @Test func nodes() throws {
        let nodes = try decode(#"[{"uid": 1, "addr": "10.0.0.1", "status": "active", "software_version": "7.8.2-34", "shard_count": 3}, {"uid": 2.0}]"#, as: [ClusterNode].self)
        #expect(nodes == [ClusterNode(uid: 1, addr: "10.0.0.1", status: "active", softwareVersion: "7.8.2-34"),
                          ClusterNode(uid: 2, addr: "", status: "", softwareVersion: "")])
        #expect(throws: DecodeError.self) { try decode(#"[{"addr": "x"}]"#, as: [ClusterNode].self) }
        #expect(throws: DecodeError.self) { try decode(#"{"uid": 1}"#, as: [ClusterNode].self) }
    }
}
