import AsyncHTTPClient
import NIOCore

extension HTTPClient {
    /// A request and its whole answer, through the delegate interface: its deadline covers the
    /// body too, and the body is gathered on the connection's event loop. The async interface
    /// streams the body to the task and needs a deadline of our own around that, and the two
    /// took a fifth of a poll's instructions. Cancelling the calling task cancels the request.
    func wholeResponse(_ request: Request, maxBodyBytes: Int, within limit: Duration) async throws -> Response {
        let task = execute(request: request, delegate: ResponseAccumulator(request: request, maxBodySize: maxBodyBytes),
                           deadline: .now() + .nanoseconds(max(0, limit.nanoseconds)))
        return try await withTaskCancellationHandler {
            try await task.futureResult.get()
        } onCancel: {
            task.cancel()
        }
    }
}
