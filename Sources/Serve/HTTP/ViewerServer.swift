import Foundation
import Hummingbird
import Logging
import NIOCore

/// `circuits serve`: the viewer behind a Hummingbird HTTP/1.1 server.
public enum ViewerServer {
    /// Largest request body read (supernode writes are a few KiB).
    public static let maxBody = 1 << 20

    /// Serves `path` until SIGINT or SIGTERM.
    ///
    /// - Parameters:
    ///   - host: address to bind (loopback by default in the CLI).
    ///   - port: port to bind; 0 picks a free one.
    ///   - ready: called once listening, with the viewer's URL (the bound port).
    /// - Throws: `ServeError.unreadable` when `path` cannot be served; the server's error when
    ///   the address cannot be bound.
    public static func run(path: URL, host: String, port: Int, ready: @escaping @Sendable (String) -> Void) async throws {
        let viewer = Viewer(catalog: try LiveCatalog(path: path), requestGuard: RequestGuard(host: host, port: port))
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var body = Data()
            if request.method == .post || request.method == .put || request.method == .delete {
                let buffer = try await request.body.collect(upTo: maxBody)
                body = Data(buffer.readableBytesView)
            }
            let r = ViewerRequest(method: request.method.rawValue, path: request.uri.path,
                                  query: ViewerRequest.parseQuery(request.uri.query), host: request.head.authority,
                                  origin: request.headers[.origin], contentType: request.headers[.contentType], body: body)
            let answer = viewer.respond(r)
            var headers: HTTPFields = [.contentType: answer.contentType, .cacheControl: "no-store"]
            headers[.init("X-Content-Type-Options")!] = "nosniff"
            return Response(status: .init(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        var logger = Logger(label: "circuits.serve")
        logger.logLevel = .warning
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                viewer.requestGuard = RequestGuard(host: host, port: bound)
                let shown = host.contains(":") ? "[\(host)]" : host
                ready("http://\(shown):\(bound)/")
            },
            logger: logger)
        try await app.runService()
    }
}
