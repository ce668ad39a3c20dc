// Errors of the ZeroMQ wrapper. Every failing libzmq call becomes one `ZMQError` that says what
// was attempted, on which endpoint, and libzmq's own explanation of the errno.
import CZMQ
import Foundation

/// A failed ZeroMQ operation: what was attempted, where, and libzmq's errno and message.
///
/// `description` is meant to be printed as is, e.g.
/// `ZeroMQ bind failed on tcp://127.0.0.1:5555: Address already in use (errno 98)`.
public struct ZMQError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was being done: `"bind"`, `"connect"`, `"send"`, `"receive"`, `"create socket"`, ...
    public let operation: String
    /// The endpoint involved (`tcp://127.0.0.1:5555`, `ipc:///tmp/x.sock`), if any.
    public let endpoint: String?
    /// The errno libzmq reported (`EAGAIN`, `EADDRINUSE`, `ETERM`, ...).
    public let errno: Int32
    /// libzmq's explanation of `errno` (`zmq_strerror`), or ours when libzmq was not called.
    public let message: String

    /// Makes an error from explicit parts; `message` defaults to `zmq_strerror(errno)`.
    public init(operation: String, endpoint: String? = nil, errno: Int32, message: String? = nil) {
        self.operation = operation
        self.endpoint = endpoint
        self.errno = errno
        self.message = message ?? String(cString: zmq_strerror(errno))
    }

    /// The error of the libzmq call that just failed on the calling thread (`zmq_errno()`).
    static func last(_ operation: String, endpoint: String? = nil) -> ZMQError {
        ZMQError(operation: operation, endpoint: endpoint, errno: zmq_errno())
    }

    /// True when the context was terminated under the operation (`ETERM`): the socket loop
    /// should close its socket and stop.
    public var isContextTerminated: Bool { errno == ETERM }

    /// True when a send timed out (`EAGAIN` with `ZMQ_SNDTIMEO` set): the peer is not reading.
    public var isTimeout: Bool { errno == EAGAIN }

    public var description: String {
        var text = "ZeroMQ \(operation) failed"
        if let endpoint { text += " on \(endpoint)" }
        return text + ": \(message) (errno \(errno))"
    }
}
