import NIOCore
import NIOEmbedded
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

    /// On the event loop's clock, moved by hand: a keep-alive client whose requests each end
    /// in time keeps its connection however long it stays, one that stops within a head loses it.
    @Test func eachRequestHasItsOwnDeadline() throws {
        let channel = EmbeddedChannel(handler: RequestDeadlineHandler(limit: .seconds(1)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        func send(_ text: String) throws { try channel.writeInbound(ByteBuffer(string: text)) }
        func advance(_ milliseconds: Int64) { channel.embeddedEventLoop.advanceTime(by: .milliseconds(milliseconds)) }

        try send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        advance(900)
        try send("GET /met")  // the next request starts before the first one's deadline...
        advance(200)
        #expect(channel.isActive, "...and has its own")
        try send("rics HTTP/1.1\r\nHost: x\r\n\r\n")
        advance(5000)
        #expect(channel.isActive, "no request was under way")
        try send("GET /metrics HTTP/1.1\r\n")
        advance(999)
        #expect(channel.isActive)
        advance(1)
        #expect(!channel.isActive, "a head unfinished at its deadline ends the connection")
        _ = try? channel.finish()
    }

    /// A head is read whole however the reads cut it, and each of several in one read counts.
    @Test(arguments: [
        (["GET /metrics HTTP/1.1\r\nContent-Le", "ngth: 5\r", "\n\r\n"], false),
        (["GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"], true),
        (["GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"], false),
        (["GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /met"], false),
        (["G", "E", "T", " ", "/", "\n", "\n"], true),
    ])
    func headsAreReadWholeHoweverTheReadsCutThem(reads: [String], staysOpen: Bool) throws {
        let channel = EmbeddedChannel(handler: RequestDeadlineHandler(limit: .seconds(1)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for read in reads { try channel.writeInbound(ByteBuffer(string: read)) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive == staysOpen)
        _ = try? channel.finish()
    }
}
