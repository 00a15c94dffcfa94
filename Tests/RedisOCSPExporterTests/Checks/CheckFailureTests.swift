@testable import RedisOCSPExporter
import Testing

/// An error answer becomes the error_code the metrics show.
@Suite(.tags(.unit))
struct CheckFailureTests {
    @Test func errorClassificationPrefersTheAPIsErrorCode() {
        let body = Array(#"{"error_code": "ocsp_unsupported_by_capability", "message": "nope"}"#.utf8)
        #expect(CheckFailure.fromResponse(status: 406, body: body).code == "ocsp_unsupported_by_capability")
        #expect(CheckFailure.fromResponse(status: 400, body: Array(#"{"error_code": "invalid_ocsp_response"}"#.utf8)).code == "invalid_ocsp_response")
        #expect(CheckFailure.fromResponse(status: 500, body: Array("<html>oops</html>".utf8)).code == "http_500")
        #expect(CheckFailure.fromResponse(status: 401, body: [UInt8]()).code == "http_401")
        #expect(CheckFailure.fromResponse(status: 403, body: Array(#"{"message": "no"}"#.utf8)).code == "http_403")
        // A code that would make a strange or unbounded label falls back to the status.
        #expect(CheckFailure.fromResponse(status: 400, body: Array(#"{"error_code": "Bad Code\n"}"#.utf8)).code == "http_400")
        #expect(CheckFailure.fromResponse(status: 400, body: Array("{\"error_code\": \"\(String(repeating: "a", count: 65))\"}".utf8)).code == "http_400")
        #expect(CheckFailure.fromResponse(status: 400, body: Array(#"{"error_code": 7}"#.utf8)).code == "http_400")
    }

    /// The request pages describe errors as error_code and message, the OpenAPI file as
    /// error_code, description and status_code: both give the code and the text.
    @Test func errorBodiesOfBothDocumentedShapesAreRead() {
        let pages = CheckFailure.fromResponse(status: 400, body: Array(#"{"error_code": "no_responder_url", "message": "No responder URL"}"#.utf8))
        #expect(pages.code == "no_responder_url")
        #expect(pages.message == "HTTP 400: No responder URL")
        #expect(pages.httpStatus == 400)
        let openAPI = CheckFailure.fromResponse(
            status: 500, body: Array(#"{"error_code": "task_queued_for_too_long", "description": "queued over 5 s", "status_code": 500}"#.utf8))
        #expect(openAPI.code == "task_queued_for_too_long")
        #expect(openAPI.message == "HTTP 500: queued over 5 s")
        #expect(openAPI.httpStatus == 500)
        #expect(CheckFailure.fromResponse(status: 403, body: Array("Forbidden".utf8)).httpStatus == 403)
    }
}

extension CheckFailureTests {
    /// A server that answers a new well-formed error_code each time mints at most
    /// `maxOtherCodes` series per endpoint; the rest are folded into one code, while the
    /// documented codes, `http_<status>` and the exporter's own stay as they are.
    @Test func errorCodesOfTheServerAreBounded() {
        var health = EndpointHealth(endpoint: "status")
        func fail(_ failure: CheckFailure) { health.record(Fetch<Int>(result: .failure(failure), duration: 0.01), at: 0) }
        for i in 0..<200 {
            let failure = CheckFailure.fromResponse(status: 500, body: Array(#"{"error_code": "minted_\#(i)"}"#.utf8))
            fail(failure)
        }
        #expect(health.errorsTotal.count == CheckFailure.maxOtherCodes + 1)
        #expect(health.errorsTotal[CheckFailure.otherCode] == UInt64(200 - CheckFailure.maxOtherCodes))
        #expect(health.error?.code == CheckFailure.otherCode)
        #expect(health.error?.message.contains("minted_199") == true, "the log line still names the code")
        for code in ["no_responder_url", "invalid_ocsp_response", "http_502"] {
            fail(CheckFailure.fromResponse(status: 502, body: Array(#"{"error_code": "\#(code)"}"#.utf8)))
            #expect(health.error?.code == code)
        }
        fail(CheckFailure(code: CheckFailure.timeout, message: "t"))
        #expect(health.error?.code == CheckFailure.timeout)
    }
}
