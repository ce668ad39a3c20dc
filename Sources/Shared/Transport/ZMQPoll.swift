import CZMQ

extension ZMQSocket {
    /// Waits up to `timeoutMilliseconds` (-1: forever) until any of `sockets` has a message to
    /// read, and returns the indices of those that do (empty on timeout or interruption). One
    /// thread serving many sockets (the simulated workers of `circuits bench coordinator`).
    public static func poll(_ sockets: [ZMQSocket], timeoutMilliseconds: Int) throws -> [Int] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        if rc < 0 {
            if zmq_errno() == EINTR { return [] }
            throw ZMQError.last("poll")
        }
        return rc == 0 ? [] : items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
