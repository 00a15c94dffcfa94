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
    /// When the request being read must have its head, or nil between requests.
    private var deadline: NIODeadline?
    /// Armed for `deadline` or earlier, and left armed when a request ends in time: a
    /// keep-alive client sending request after request costs one timer per `limit`, not one
    /// scheduled and cancelled per request.
    private var timer: Scheduled<Void>?
    /// Bytes of a request whose head has not ended yet have arrived.
    private var inRequest = false
    /// Where the scan for the head's end stands: 0 nothing, 1 after LF, 2 after LF CR.
    private var state = 0
    /// The head read so far.
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
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !closing { scan(unwrapInboundIn(data).readableBytesView, context) }
        context.fireChannelRead(data)
    }

    /// Finds where heads start and end. Byte by byte on locals: each access to a stored
    /// property of a class is an exclusivity check, which per byte cost more than the scan.
    private func scan(_ bytes: ByteBufferView, _ context: ChannelHandlerContext) {
        var (state, inRequest) = (self.state, self.inRequest)
        // Where the part of the current head in these bytes begins.
        var from = bytes.startIndex
        scanning: for index in bytes.indices {
            let byte = bytes[index]
            if !inRequest {
                (inRequest, from) = (true, index)
                start(context)
            }
            // A head ends with an empty line: LF LF, or LF CR LF.
            switch (byte, state) {
            case (UInt8(ascii: "\n"), 1), (UInt8(ascii: "\n"), 2):
                keep(bytes[from...index])
                closing = Self.announcesBody(head)
                if !closing { deadline = nil }
                (inRequest, state) = (false, 0)
                head.removeAll(keepingCapacity: head.count <= 4096)
                if closing { break scanning }  // the connection ends at the deadline: nothing more to find
            case (UInt8(ascii: "\n"), _): state = 1
            case (UInt8(ascii: "\r"), 1): state = 2
            default: state = 0
            }
        }
        if inRequest { keep(bytes[from...]) }
        (self.state, self.inRequest) = (state, inRequest)
    }

    /// The head read so far is kept up to a little more than the HTTP decoder accepts (16 KiB).
    private func keep(_ part: ByteBufferView) {
        head.append(contentsOf: part.prefix(max(0, 20 * 1024 - head.count)))
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
        guard deadline == nil else { return }
        let deadline = context.eventLoop.now + limit
        self.deadline = deadline
        if timer == nil { arm(context, at: deadline) }
    }

    /// When the timer fires, the request then being read (if any) may have started after it
    /// was armed: its own deadline decides.
    private func arm(_ context: ChannelHandlerContext, at time: NIODeadline) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: time) {
            let (handler, context) = bound.value
            handler.timer = nil
            guard let deadline = handler.deadline else { return }
            if deadline <= context.eventLoop.now { context.channel.close(promise: nil) } else { handler.arm(context, at: deadline) }
        }
    }

    private func disarm() {
        timer?.cancel()
        (timer, deadline) = (nil, nil)
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
