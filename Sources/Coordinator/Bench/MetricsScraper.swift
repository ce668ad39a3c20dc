import Foundation

/// `circuits bench coordinator --metrics-scrapes-per-second`: a thread that GETs `/metrics` at a
/// steady rate while the coordinator serves, over a plain socket (HTTP/1.1, `Connection: close`),
/// counting the answers (status 200 with a body) and timing the slowest round trip.
final class MetricsScraper: @unchecked Sendable {
    let host: String, port: UInt16, path: String
    let interval: Duration
    let server: MetricsServer
    private let lock = NSLock()
    private var running = true
    private var count = 0
    private var slowest = Duration.zero
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter url: `http://127.0.0.1:PORT/metrics` (`MetricsServer.address` + path).
    init(url: String, perSecond: Double, server: MetricsServer) {
        let parts = URL(string: url)!
        host = parts.host ?? "127.0.0.1"
        port = UInt16(parts.port ?? 80)
        path = parts.path
        interval = .seconds(1 / perSecond)
        self.server = server
    }

    func start() {
        Thread.detachNewThread { [self] in
            var next = ContinuousClock.now
            while isRunning {
                let t = ContinuousClock.now
                if get() {
                    let took = ContinuousClock.now - t
                    lock.lock(); count += 1; slowest = max(slowest, took); lock.unlock()
                }
                next += interval
                let wait = next - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) } else { next = ContinuousClock.now }
            }
            finished.signal()
        }
    }

    /// Stops scraping and the server; returns the scrapes answered and the slowest one.
    func stop() -> (count: Int, maxMilliseconds: Double) {
        lock.lock(); running = false; lock.unlock()
        finished.wait()
        server.stop()
        lock.lock(); defer { lock.unlock() }
        return (count, slowest.seconds * 1000)
    }

    private var isRunning: Bool { lock.lock(); defer { lock.unlock() }; return running }

    /// One GET; true when the answer is `200` with a body.
    private func get() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)   // a server that never answers fails the scrape, not the run
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return false }
        var response = [UInt8](), buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        return text.hasPrefix("HTTP/1.1 200") && text.contains("circuits_tasks")
    }
}
