import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// TLS in front of the HTTP channel with the context in force when the connection arrives,
/// so renewed certificates are served without a restart (see `WebConfigSource`).
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let web: WebConfigSource

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        web.sslContext(on: channel.eventLoop).flatMapThrowing { context in
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadingTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
