import HummingbirdCore
import NIOCore

/// Bounds the time a client takes to send a request: from the connection's start, or from the
/// first byte of the next request, to the end of its head. The idle timeout restarts on every
/// byte, so without this a client sending a head or a body one byte every few seconds would
/// hold its connection slot for as long as it likes, and enough of them every slot. No
/// endpoint takes a body: after a head that announces one, the clock runs on and the
/// connection closes at the deadline, whether the body comes quickly, slowly or never.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let limit: TimeAmount
    private var timer: Scheduled<Void>?
    /// Bytes of a request whose head has not ended yet have arrived.
    private var inRequest = false
    /// Where the scan for the head's end stands: 0 nothing, 1 after LF, 2 after LF CR.
    private var state = 0
    /// The head read so far (the HTTP decoder refuses one over 16 KiB; this keeps a little more).
    private var head: [UInt8] = []
    /// A head announced a body: the connection ends at the deadline.
    private var closing = false

    init(limit: TimeAmount) {
        self.limit = limit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        for byte in unwrapInboundIn(data).readableBytesView where !closing {
            if !inRequest {
                inRequest = true
                start(context)
            }
            if head.count < 20 * 1024 { head.append(byte) }
            // A head ends with an empty line: LF LF, or LF CR LF.
            switch (byte, state) {
            case (UInt8(ascii: "\n"), 1), (UInt8(ascii: "\n"), 2):
                closing = Self.announcesBody(head)
                if !closing { stop() }
                (inRequest, state, head) = (false, 0, [])
            case (UInt8(ascii: "\n"), _): state = 1
            case (UInt8(ascii: "\r"), 1): state = 2
            default: state = 0
            }
        }
        context.fireChannelRead(data)
    }

    /// Whether a head's fields announce a body: a Content-Length other than 0, or a Transfer-Encoding.
    /// On the bytes: it runs for every request, and as a `String` split into lines it cost a
    /// scrape more than anything else in the exporter.
    static func announcesBody(_ head: [UInt8]) -> Bool {
        // LF, VT, FF and CR end a line, as for `Character.isNewline`.
        head.split(whereSeparator: { (0x0A...0x0D).contains($0) }).dropFirst().contains { line in
            if Self.startsWithName(line, "transfer-encoding:") { return true }
            guard Self.startsWithName(line, "content-length:") else { return false }
            return !line.dropFirst("content-length:".utf8.count).filter { $0 != 0x20 && !(0x09...0x0D).contains($0) }.elementsEqual("0".utf8)
        }
    }

    /// Whether `line` begins with `name` (lowercase ASCII), in any case.
    private static func startsWithName(_ line: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
        let name = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return line.count >= name.count && zip(line, name).allSatisfy { byte, expected in
            (0x41...0x5A).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: limit) { channel.close(promise: nil) }
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }
}

extension PrefixedChannel {
    /// A `RequestDeadlineHandler` in front of the HTTP channel (behind TLS, when the server
    /// speaks it, so it sees requests, not records).
    static func requestDeadline(_ base: Base, limit: TimeAmount) -> Self {
        PrefixedChannel(base: base) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RequestDeadlineHandler(limit: limit)) }
        }
    }
}
