import HummingbirdCore
import Logging
import NIOCore

/// A server channel whose connections get handlers of ours in front of the base channel's:
/// `prepare` adds them to each new connection's pipeline (TLS, the request deadline).
struct PrefixedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let prepare: @Sendable (any Channel) -> EventLoopFuture<Void>

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        prepare(channel).flatMap { base.setup(channel: channel, logger: logger) }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension PrefixedChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
