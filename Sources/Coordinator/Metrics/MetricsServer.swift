import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `circuits coordinator --metrics-port`: `/metrics` (Prometheus text exposition format) and
/// `/health` (JSON) over HTTP/1.1, served by SwiftNIO on its event-loop threads.
///
/// The coordinator's ZeroMQ loop never waits for it: a request reads `CoordinatorMetrics`
/// (atomics and a lock held for a copy) and writes nothing back. It uses no Swift concurrency
/// (Hummingbird's handlers run on the cooperative thread pool, which a process whose pool
/// threads are all blocked, such as a test runner, would starve): binding and every answer
/// happen on NIO's own threads.
public final class MetricsServer: Sendable {
    /// `http://HOST:PORT` actually bound (the port chosen when 0 was asked).
    public let address: String
    private let channel: any Channel

    /// An HTTP answer: status, content type, body.
    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
    }

    /// Answers one request: `GET /metrics`, `GET /health` (HEAD too); 404 for any other path,
    /// 405 for other methods on these two.
    public static func respond(method: String, path: String, metrics: CoordinatorMetrics) -> Answer {
        let text = "text/plain; charset=utf-8"
        guard path == "/metrics" || path == "/health" else {
            return Answer(status: 404, contentType: text, body: Array("not found: /metrics and /health are served here\n".utf8))
        }
        guard method == "GET" || method == "HEAD" else {
            return Answer(status: 405, contentType: text, body: Array("\(method) not allowed: use GET\n".utf8))
        }
        if path == "/metrics" {
            return Answer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.registry.emitToBuffer())
        }
        let (status, json) = metrics.health()
        return Answer(status: status, contentType: "application/json", body: Array((json + "\n").utf8))
    }

    /// Starts serving `metrics` on `host:port` and returns once it listens.
    ///
    /// - Parameter port: 0 picks a free port (`address` says which).
    /// - Throws: `MetricsServerError.cannotListen` when the address cannot be bound (in use, no
    ///   such host).
    public static func start(_ metrics: CoordinatorMetrics, host: String, port: Int) throws -> MetricsServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: metrics))
                }
            }
        let channel: any Channel
        do { channel = try bootstrap.bind(host: host, port: port).wait() } catch {
            throw MetricsServerError.cannotListen(host: host, port: port, reason: "\(error)")
        }
        let bound = channel.localAddress?.port ?? port
        let shown = host.contains(":") ? "[\(host)]" : host
        return MetricsServer(address: "http://\(shown):\(bound)", channel: channel)
    }

    private init(address: String, channel: any Channel) {
        self.address = address
        self.channel = channel
    }

    /// Stops listening (the coordinator's process usually just exits).
    public func stop() { channel.close(promise: nil) }
}

/// One connection: answers each request once its end has arrived (bodies are ignored).
final class MetricsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let metrics: CoordinatorMetrics
    private var head: HTTPRequestHead?

    init(metrics: CoordinatorMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = String(head.uri.prefix { $0 != "?" })
            let answer = MetricsServer.respond(method: head.method.rawValue, path: path, metrics: metrics)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: answer.contentType)
            headers.add(name: "Content-Length", value: String(answer.body.count))
            headers.add(name: "Cache-Control", value: "no-store")
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            let status = HTTPResponseStatus(statusCode: answer.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
            }
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                written.whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }
}

/// The metrics endpoint cannot serve.
public enum MetricsServerError: Error, CustomStringConvertible {
    /// `host:port` cannot be listened on (the reason is the socket's: in use, no such address).
    case cannotListen(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason):
            return "cannot serve metrics on \(host):\(port): \(reason); choose another --metrics-port or --metrics-host"
        }
    }
}
