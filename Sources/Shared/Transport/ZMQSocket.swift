import CZMQ
import Foundation

/// A ZeroMQ socket (ROUTER for the coordinator, DEALER for workers) sending and receiving
/// multipart messages as `[Data]` frames.
///
/// Not thread-safe (libzmq sockets are not): use it from one thread; it may move to another
/// thread across a thread start or join. Made with `ZMQ_LINGER` 0 so closing never blocks.
public final class ZMQSocket: @unchecked Sendable {
    public enum Kind: Sendable {
        case router, dealer, rep
        var raw: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .rep: return ZMQ_REP
            }
        }
    }

    public let context: ZMQContext
    var handle: UnsafeMutableRawPointer?
    /// The endpoint bound or connected to, for error messages.
    public private(set) var endpoint: String?

    public init(_ context: ZMQContext, kind: Kind, identity: String? = nil) throws {
        self.context = context
        handle = try context.makeSocket(type: kind.raw)
        try setOption(ZMQ_LINGER, Int32(0))
        if kind == .router { try setOption(ZMQ_ROUTER_MANDATORY, Int32(1)) }
        if let identity {
            let bytes = Array(identity.utf8)
            guard zmq_setsockopt(handle, ZMQ_ROUTING_ID, bytes, bytes.count) == 0 else { throw ZMQError.last("set identity") }
        }
    }

    deinit { close() }

    private func setOption(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("set socket option \(option)", endpoint: endpoint)
        }
    }

    private func setOption(_ option: Int32, _ value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("set socket option \(option)", endpoint: endpoint)
        }
    }

    private func setOption(_ option: Int32, _ value: String) throws {
        let bytes = Array(value.utf8)
        guard zmq_setsockopt(handle, option, bytes, bytes.count) == 0 else {
            throw ZMQError.last("set socket option \(option)", endpoint: endpoint)
        }
    }

    /// Bounds what a peer can make this socket hold: inbound messages larger than
    /// `maxMessageBytes` drop the connection (`ZMQ_MAXMSGSIZE`), and at most `highWaterMark`
    /// messages queue per peer each way (`ZMQ_SNDHWM`/`ZMQ_RCVHWM`); beyond it `trySend` fails
    /// rather than blocking. Call before `bind`/`connect`.
    public func limit(maxMessageBytes: Int, highWaterMark: Int32) throws {
        try setOption(ZMQ_MAXMSGSIZE, Int64(maxMessageBytes))
        try setOption(ZMQ_SNDHWM, highWaterMark)
        try setOption(ZMQ_RCVHWM, highWaterMark)
    }

    /// Turns on CurveZMQ for this socket: encryption, and authentication of the other side. Call
    /// before `bind`/`connect`. A coordinator's socket becomes a CURVE server (its clients are
    /// checked by the context's `ZAPAuthenticator`); a worker's socket a CURVE client that only
    /// completes the handshake with the server holding `coordinatorKey`'s secret.
    public func secure(_ security: TransportSecurity) throws {
        switch security {
        case .none:
            return
        case let .coordinator(key, _):
            try setOption(ZMQ_CURVE_SERVER, Int32(1))
            try setOption(ZMQ_CURVE_SECRETKEY, key.secretKey ?? "")
            try setOption(ZMQ_ZAP_DOMAIN, "circuits")
        case let .worker(key, coordinatorKey):
            try setOption(ZMQ_CURVE_SERVERKEY, coordinatorKey)
            try setOption(ZMQ_CURVE_PUBLICKEY, key.publicKey)
            try setOption(ZMQ_CURVE_SECRETKEY, key.secretKey ?? "")
        }
    }

    /// Binds to `endpoint` (`tcp://127.0.0.1:5555`, `tcp://*:5555`, `tcp://127.0.0.1:*`) and
    /// returns the endpoint actually bound (with the port chosen for `*`).
    @discardableResult
    public func bind(_ endpoint: String) throws -> String {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind", endpoint: endpoint) }
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { throw ZMQError.last("read bound endpoint", endpoint: endpoint) }
        let bound = String(cString: buffer)
        self.endpoint = bound
        return bound
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect", endpoint: endpoint) }
        self.endpoint = endpoint
    }

    /// Sends `frames` as one multipart message, waiting while the peer's queue is full. With
    /// `ROUTER_MANDATORY`, sending to a peer that has gone throws `EHOSTUNREACH`.
    public func send(_ frames: [Data]) throws {
        _ = try send(frames, flags: 0)
    }

    /// Sends `frames` without ever blocking: returns false, sending nothing, when the peer's
    /// queue is at its high-water mark (a peer that does not read). Other failures throw.
    public func trySend(_ frames: [Data]) throws -> Bool {
        try send(frames, flags: ZMQ_DONTWAIT)
    }

    private func send(_ frames: [Data], flags base: Int32) throws -> Bool {
        for (k, frame) in frames.enumerated() {
            let flags = base | (k == frames.count - 1 ? Int32(0) : ZMQ_SNDMORE)
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                // Only the first frame can meet a full queue: libzmq queues a multipart message whole.
                if k == 0 && zmq_errno() == EAGAIN && base & ZMQ_DONTWAIT != 0 { return false }
                throw ZMQError.last("send", endpoint: endpoint)
            }
        }
        return true
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) for a message; nil on timeout.
    public func receive(timeoutMilliseconds: Int) throws -> [Data]? {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let rc = zmq_poll(&item, 1, timeoutMilliseconds)
        if rc < 0 {
            if zmq_errno() == EINTR { return nil }
            throw ZMQError.last("poll", endpoint: endpoint)
        }
        guard rc > 0 else { return nil }
        var frames: [Data] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, handle, 0) >= 0 else { throw ZMQError.last("receive", endpoint: endpoint) }
            frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
            guard zmq_msg_more(&message) != 0 else { break }
        }
        return frames
    }

    /// Closes the socket. Idempotent.
    public func close() {
        if let handle { zmq_close(handle) }
        handle = nil
    }
}
