// The ZeroMQ context: one per process, owns libzmq's I/O thread. Sockets keep their context
// alive, so the context is only ever terminated by hand (`terminate()`) or after its last socket
// has gone away.
import CZMQ
import Foundation

/// A libzmq context (`zmq_ctx_new`), from which sockets are made.
///
/// Safe to share between threads (libzmq contexts are thread-safe). Every `ZMQSocket` holds a
/// strong reference to its context, so `deinit` runs only after all sockets are gone.
///
/// - Warning: `terminate()` blocks until every socket of the context is closed (`zmq_ctx_term`).
///   Sockets are made with `ZMQ_LINGER` 0, so closing them never waits for the network; but a
///   socket that is still open on another thread keeps `terminate()` waiting. Blocking calls on
///   such sockets fail with `ETERM` (`ZMQError.isContextTerminated`) as soon as termination
///   starts: the thread owning the socket should then close it.
public final class ZMQContext: @unchecked Sendable {
    /// The `void *` from `zmq_ctx_new`; nil once terminated. Guarded by `lock`.
    private var handle: UnsafeMutableRawPointer?
    private let lock = NSLock()

    /// Creates a context with libzmq's defaults (one I/O thread).
    ///
    /// - Throws: `ZMQError` if libzmq cannot create a context (out of file descriptors).
    public init() throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("create context") }
        self.handle = handle
    }

    deinit { terminate() }

    /// Terminates the context: blocking calls on its sockets fail with `ETERM`, then this waits
    /// until every socket is closed. Idempotent; safe from any thread.
    public func terminate() {
        lock.lock()
        let handle = self.handle
        self.handle = nil
        lock.unlock()
        guard let handle else { return }
        // zmq_ctx_term may be interrupted by a signal (EINTR): it must then be called again.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    /// True once `terminate()` has been called.
    public var isTerminated: Bool {
        lock.lock()
        defer { lock.unlock() }
        return handle == nil
    }

    /// Makes a raw socket of libzmq type `type` (`ZMQ_ROUTER`, ...).
    ///
    /// The lock is held during `zmq_socket`, so a concurrent `terminate()` cannot free the context
    /// under it.
    func makeSocket(type: Int32) throws -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else {
            throw ZMQError(operation: "create socket", errno: ETERM)
        }
        guard let socket = zmq_socket(handle, type) else { throw ZMQError.last("create socket") }
        return socket
    }
}
