@testable import RedisOCSPExporter
import Testing

/// redis_ocsp_supported is 1 once an OCSP endpoint answered, 0 while the cluster answers
/// ocsp_unsupported_by_capability, and absent only until known: a round whose OCSP endpoints
/// failed otherwise (a 5xx, a timeout) says nothing about capability.
@Suite(.tags(.unit))
struct CapabilityTests {
    @Test func aFailedRoundKeepsWhatWasKnown() throws {
        let cluster = try ConfigLoader.load(yaml: "clusters: [{name: c, url: \"https://x\"}]", source: "t").clusters[0]
        var snapshot = ClusterSnapshot(cluster: cluster)
        func round(_ results: [CheckFailure?]) {
            snapshot.apply(CheckRound.Outcome(lane: .rest, finishedAt: 1, restRound: (supported: RESTRound.capability(results), accessLevel: .admin)))
        }
        let serverError = CheckFailure(code: "http_500", message: "m", httpStatus: 500)
        round([serverError, serverError])
        #expect(snapshot.supported == nil, "unknown until an OCSP endpoint answered")
        round([nil, nil])
        #expect(snapshot.supported == true)
        round([serverError, CheckFailure(code: CheckFailure.timeout, message: "t")])
        #expect(snapshot.supported == true, "a 5xx and a timeout say nothing about capability")
        round([CheckFailure(code: CheckFailure.unsupported, message: "m", httpStatus: 406), serverError])
        #expect(snapshot.supported == false)
        round([serverError, serverError])
        #expect(snapshot.supported == false)
    }
}
