import Foundation
import Hummingbird
import Logging
import NIOCore

/// `circuits coordinator --metrics-port`: `/metrics` (Prometheus text exposition format) and
/// `/health` (JSON) over HTTP/1.1, served by Hummingbird on its own event-loop threads.
///
/// The coordinator's ZeroMQ loop never waits for it: a request reads `CoordinatorMetrics`
/// (atomics and a lock held for a copy) and writes nothing back.
public final class MetricsServer: @unchecked Sendable {
    /// `http://HOST:PORT` actually bound (the port chosen when 0 was asked).
    public let address: String
    private let task: Task<Void, Error>

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
    /// - Parameters:
    ///   - port: 0 picks a free port (`address` says which).
    ///   - seconds: how long to wait for the socket to be bound.
    /// - Throws: `MetricsServerError.cannotListen` when the address cannot be bound (in use, no
    ///   such host), `.notListening` when it did not listen within `seconds`.
    public static func start(_ metrics: CoordinatorMetrics, host: String, port: Int, seconds: Double = 15,
                             logger: Logger = Logger(label: "circuits.metrics", factory: { _ in SwiftLogNoOpLogHandler() })) throws -> MetricsServer {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let answer = respond(method: request.method.rawValue, path: request.uri.path, metrics: metrics)
            return Response(status: .init(code: answer.status),
                            headers: [.contentType: answer.contentType, .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        let started = StartOutcome()
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in started.listening(on: channel.localAddress?.port ?? port) },
            logger: logger)
        // No signal handlers of its own: SIGINT/SIGTERM belong to the coordinator (`stop` ends it).
        let task = Task {
            do { try await app.runService(gracefulShutdownSignals: []) } catch {
                started.failed(error)
                throw error
            }
            started.failed(MetricsServerError.notListening(host: host, port: port))
        }
        switch started.wait(seconds: seconds) {
        case let .listening(bound):
            let shown = host.contains(":") ? "[\(host)]" : host
            return MetricsServer(address: "http://\(shown):\(bound)", task: task)
        case let .failed(error):
            task.cancel()
            throw error as? MetricsServerError ?? .cannotListen(host: host, port: port, reason: "\(error)")
        case nil:
            task.cancel()
            throw MetricsServerError.notListening(host: host, port: port)
        }
    }

    private init(address: String, task: Task<Void, Error>) {
        self.address = address
        self.task = task
    }

    /// Stops listening (the coordinator's process usually just exits).
    public func stop() { task.cancel() }

    /// Whether the server came up, handed from its task to the caller of `start`.
    private final class StartOutcome: @unchecked Sendable {
        enum State { case listening(Int), failed(Error) }
        private let lock = NSLock()
        private let ready = DispatchSemaphore(value: 0)
        private var state: State?

        func listening(on port: Int) { set(.listening(port)) }
        func failed(_ error: Error) { set(.failed(error)) }

        private func set(_ s: State) {
            lock.lock()
            let first = state == nil
            if first { state = s }
            lock.unlock()
            if first { ready.signal() }
        }

        func wait(seconds: Double) -> State? {
            guard ready.wait(timeout: .now() + seconds) == .success else { return nil }
            lock.lock(); defer { lock.unlock() }
            return state
        }
    }
}

/// The metrics endpoint cannot serve.
public enum MetricsServerError: Error, CustomStringConvertible {
    /// `host:port` cannot be listened on (the reason is the socket's: in use, no such address).
    case cannotListen(host: String, port: Int, reason: String)
    /// The server did not start listening on `host:port` in time.
    case notListening(host: String, port: Int)

    public var description: String {
        switch self {
        case let .cannotListen(host, port, reason):
            return "cannot serve metrics on \(host):\(port): \(reason); choose another --metrics-port or --metrics-host"
        case let .notListening(host, port):
            return "the metrics server did not start listening on \(host):\(port); choose another --metrics-port or --metrics-host"
        }
    }
}
