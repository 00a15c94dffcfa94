@testable import RedisOCSPExporter
import Testing

@Suite(.tags(.unit))
struct RequestDeadlineTests {
    /// Whether a head announces a body decides whether its connection closes at the deadline:
    /// a body it missed would be read as the next request.
    @Test(arguments: [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nContent-Length: \t0 \r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\r\ncontent-length:12\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\r\nCONTENT-LENGTH: 00\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\r\nContent-Length:\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\r\ntRaNsFeR-eNcOdInG:\r\n\r\n", true),
        ("GET /metrics HTTP/1.1\nHost: x\nContent-Length: 3\n\n", true),
        ("GET /metrics HTTP/1.1\nHost: x\n\n", false),
        // Only a field's name counts, and never the request line.
        ("GET /content-length:5 HTTP/1.1\r\nHost: x\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nX-Content-Length: 5\r\nX-Transfer-Encoding: chunked\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nReferer: /content-length: 5\r\n\r\n", false),
        ("GET /metrics HTTP/1.1\r\nHost: é\r\nContent-Length: 1\r\n\r\n", true),
        ("", false),
    ])
    func aHeadAnnouncesABody(head: String, announces: Bool) {
        #expect(RequestDeadlineHandler.announcesBody(Array(head.utf8)) == announces)
    }
}
