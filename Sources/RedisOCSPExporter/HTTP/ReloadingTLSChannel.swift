import HummingbirdCore
import NIOCore
import NIOSSL

extension PrefixedChannel {
    /// TLS in front of the HTTP channel with the context in force when the connection arrives,
    /// so renewed certificates are served without a restart (see `WebConfigSource`).
    static func reloadingTLS(_ base: Base, web: WebConfigSource) -> Self {
        PrefixedChannel(base: base) { channel in
            web.sslContext(on: channel.eventLoop).flatMapThrowing { context in
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            }
        }
    }
}
