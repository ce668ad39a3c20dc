// The ZeroMQ authentication protocol (ZAP, RFC 27) for the coordinator: libzmq asks every new
// CURVE connection's key of the handler bound at inproc://zeromq.zap.01 in the same context;
// this one answers from the folder of authorized workers' public keys.
import CZMQ
import Foundation

/// Accepts exactly the CURVE clients whose public key is in `DIR/*.pub`, on a thread of its own.
/// The folder is read again whenever it changes, so adding a `.pub` file admits a worker and
/// deleting it revokes the worker for every later connection (a connected worker keeps its
/// session until it reconnects).
public final class ZAPAuthenticator: @unchecked Sendable {
    private let socket: ZMQSocket
    private let folder: URL
    private let onDecision: @Sendable (_ accepted: Bool, _ address: String, _ key: String) -> Void
    private let stopped = NSLock()
    private var isStopped = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    /// Binds the handler in `context` (before any CURVE server socket of that context binds).
    public init(context: ZMQContext, authorizedKeys folder: URL,
                onDecision: @escaping @Sendable (_ accepted: Bool, _ address: String, _ key: String) -> Void = { _, _, _ in }) throws {
        self.folder = folder
        self.onDecision = onDecision
        socket = try ZMQSocket(context, kind: .rep)
        try socket.bind("inproc://zeromq.zap.01")
        let t = Thread { [self] in serve() }
        t.name = "zap"
        thread = t
        t.start()
    }

    /// The public keys in the folder now (Z85), for tests and logs.
    public func authorizedKeys() -> Set<String> { AuthorizedKeys.read(folder) }

    /// Stops the thread and closes the socket. Idempotent.
    public func stop() {
        stopped.lock()
        let was = isStopped
        isStopped = true
        stopped.unlock()
        if !was && thread != nil { finished.wait() }
    }

    private var shouldStop: Bool { stopped.lock(); defer { stopped.unlock() }; return isStopped }

    private func serve() {
        defer { socket.close(); finished.signal() }
        var cache = AuthorizedKeys(folder: folder)
        while !shouldStop {
            let received: [Data]?
            do { received = try socket.receive(timeoutMilliseconds: 100) } catch let e as ZMQError where e.isContextTerminated {
                return
            } catch { continue }
            guard let request = received else { continue }
            // version, request id, domain, address, routing id, mechanism, credentials...
            guard request.count >= 6 else { continue }
            let requestID = request[1]
            let address = String(decoding: request[3], as: UTF8.self)
            let mechanism = String(decoding: request[5], as: UTF8.self)
            var key = ""
            if mechanism == "CURVE", request.count >= 7, request[6].count == 32 { key = z85(request[6]) }
            let accepted = !key.isEmpty && cache.current().contains(key)
            onDecision(accepted, address, key)
            let reply: [Data] = [Data("1.0".utf8), requestID, Data((accepted ? "200" : "400").utf8),
                                 Data((accepted ? "OK" : "key not authorized").utf8), Data(key.utf8), Data()]
            _ = try? socket.trySend(reply)
        }
    }

    private func z85(_ bytes: Data) -> String {
        var out = [CChar](repeating: 0, count: 41)
        _ = bytes.withUnsafeBytes { zmq_z85_encode(&out, $0.bindMemory(to: UInt8.self).baseAddress, 32) }
        return String(decoding: out.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The public keys of a folder's `*.pub` files, re-read when the folder's modification time
/// changes (adding or deleting a file changes it).
struct AuthorizedKeys {
    let folder: URL
    private var stamp: Date?
    private var keys: Set<String> = []

    init(folder: URL) { self.folder = folder }

    mutating func current() -> Set<String> {
        let now = (try? FileManager.default.attributesOfItem(atPath: folder.path)[.modificationDate]) as? Date
        if now == nil || now != stamp {
            keys = Self.read(folder)
            stamp = now
        }
        return keys
    }

    /// Every readable `*.pub` key in `folder`; unreadable or malformed files admit nobody.
    static func read(_ folder: URL) -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return Set(names.filter { $0.hasSuffix(".pub") }.compactMap {
            try? CurveKey.read(folder.appendingPathComponent($0), needSecret: false).publicKey
        })
    }
}
