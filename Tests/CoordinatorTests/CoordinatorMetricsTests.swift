// The coordinator's metrics: the exposition text of known states, the health answer, and the
// HTTP server on a real socket.
import Coordinator
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite struct CoordinatorMetricsTests {
    /// The samples of an exposition, by `name{labels}` as written.
    static func samples(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { out[String(parts[0])] = String(parts[1]) }
        }
        return out
    }

    @Test func everyFamilyIsThereWithZerosBeforeAnything() {
        let metrics = CoordinatorMetrics(jobHash: "0123456789abcdef")
        let text = metrics.registry.emitToString()
        let samples = Self.samples(text)
        #expect(samples.count == 13, "\(text)")
        #expect(samples.values.allSatisfy { $0 == "0" || $0 == "0.0" }, "\(text)")
        for name in ["circuits_tasks", "circuits_prompts", "circuits_job_prompts", "circuits_prompts_per_second", "circuits_workers_connected"] {
            #expect(text.contains("# TYPE \(name) gauge\n"), "\(name)")
        }
        for name in ["circuits_lease_expiries_total", "circuits_shard_bytes_received_total",
                     "circuits_coordinator_handling_seconds_total", "circuits_coordinator_messages_total"] {
            #expect(text.contains("# TYPE \(name) counter\n"), "\(name)")
        }
        // One TYPE line per family, however many labelled samples it has.
        #expect(text.components(separatedBy: "# TYPE circuits_tasks ").count == 2)
    }

    @Test func recordedStateAndEventsAreExposedExactly() {
        let metrics = CoordinatorMetrics(jobHash: "0123456789abcdef")
        var s = CoordinatorSnapshot()
        (s.tasksPending, s.tasksLeased, s.tasksDone, s.tasksFailed) = (5, 2, 30, 1)
        (s.promptsTotal, s.promptsDone, s.promptsFailed) = (300, 236, 12)
        s.promptsPerSecond = 2.5
        s.workersConnected = 3
        metrics.record(s)
        metrics.leasesExpired(2)
        metrics.leasesExpired(0)
        metrics.shardAccepted(bytes: 1_000_000)
        metrics.shardAccepted(bytes: 234_567)
        metrics.handled(7, in: .milliseconds(250))
        metrics.handled(3, in: .milliseconds(500))
        metrics.handled(0, in: .zero)
        let samples = Self.samples(metrics.registry.emitToString())
        let want: [String: Double] = [
            #"circuits_tasks{state="pending"}"#: 5, #"circuits_tasks{state="leased"}"#: 2,
            #"circuits_tasks{state="done"}"#: 30, #"circuits_tasks{state="failed"}"#: 1,
            #"circuits_prompts{state="done"}"#: 236, #"circuits_prompts{state="failed"}"#: 12,
            "circuits_job_prompts": 300, "circuits_prompts_per_second": 2.5, "circuits_workers_connected": 3,
            "circuits_lease_expiries_total": 2, "circuits_shard_bytes_received_total": 1_234_567,
            "circuits_coordinator_handling_seconds_total": 0.75, "circuits_coordinator_messages_total": 10,
        ]
        for (key, value) in want { #expect(samples[key].flatMap(Double.init) == value, "\(key): \(samples[key] ?? "missing")") }

        metrics.enter(.serving)
        let (status, json) = metrics.health()
        #expect(status == 200)
        let h = try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(h["status"] as? String == "ok" && h["phase"] as? String == "serving" && h["job"] as? String == "0123456789ab")
        #expect(h["tasks_total"] as? Int == 38 && h["tasks_settled"] as? Int == 31)
        #expect(h["prompts_total"] as? Int == 300 && h["prompts_settled"] as? Int == 248 && h["workers_connected"] as? Int == 3)
    }

    /// A serving loop silent past `stallSeconds` is unhealthy; starting (a long journal replay)
    /// or merging for as long is not.
    @Test func aStalledLoopIsReported() {
        let metrics = CoordinatorMetrics(jobHash: "ab")
        metrics.record(CoordinatorSnapshot())
        let later = ContinuousClock.now + .seconds(CoordinatorMetrics.stallSeconds + 1)
        let starting = metrics.health(now: later)
        #expect(starting.status == 200 && starting.json.contains(#""phase":"starting""#), "\(starting.json)")
        metrics.enter(.serving)
        #expect(metrics.health().status == 200)
        let stalled = metrics.health(now: later)
        #expect(stalled.status == 503 && stalled.json.contains(#""status":"stalled""#), "\(stalled.json)")
        metrics.enter(.merging)
        let merging = metrics.health(now: later)
        #expect(merging.status == 200 && merging.json.contains(#""phase":"merging""#), "\(merging.json)")
    }

    @Test(arguments: [("GET", "/metrics", 200), ("HEAD", "/health", 200), ("GET", "/health", 200),
                      ("POST", "/metrics", 405), ("GET", "/", 404), ("GET", "/metrics/x", 404)])
    func routes(method: String, path: String, status: Int) {
        let answer = MetricsServer.respond(method: method, path: path, metrics: CoordinatorMetrics(jobHash: "ab"))
        #expect(answer.status == status, "\(method) \(path)")
    }

    /// The server on a real socket (port 0: a free one), read with URLSession while another
    /// thread keeps recording: each scrape sees a consistent, growing count.
    @Test func servesOverHTTP() throws {
        let metrics = CoordinatorMetrics(jobHash: "0123456789abcdef")
        let server = try MetricsServer.start(metrics, host: "127.0.0.1", port: 0)
        defer { server.stop() }
        #expect(server.address.hasPrefix("http://127.0.0.1:") && !server.address.hasSuffix(":0"))
        let stop = LockedFlag()
        let writer = Thread {
            var s = CoordinatorSnapshot()
            while !stop.isSet { s.tasksDone += 1; metrics.record(s); metrics.handled(1, in: .microseconds(10)); usleep(20) }
        }
        writer.start()
        defer { stop.set() }
        var seen: [Double] = []
        for _ in 0..<5 {
            let (status, body, type) = try #require(Self.get(server.address + "/metrics"))
            #expect(status == 200 && type.hasPrefix("text/plain; version=0.0.4"))
            seen.append(Double(Self.samples(body)["circuits_coordinator_messages_total"] ?? "") ?? -1)
        }
        #expect(seen == seen.sorted() && seen.allSatisfy { $0 >= 0 }, "\(seen)")
        let health = try #require(Self.get(server.address + "/health"))
        #expect(health.status == 200 && health.body.contains(#""job":"0123456789ab""#))
    }

    static func get(_ url: String) -> (status: Int, body: String, contentType: String)? {
        final class Box: @unchecked Sendable { var value: (Int, String, String)? }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: URL(string: url)!) { data, response, _ in
            if let http = response as? HTTPURLResponse {
                box.value = (http.statusCode, String(decoding: data ?? Data(), as: UTF8.self), http.value(forHTTPHeaderField: "Content-Type") ?? "")
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 10)
        session.invalidateAndCancel()
        return box.value.map { (status: $0.0, body: $0.1, contentType: $0.2) }
    }
}

/// A flag one thread sets and another reads.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
