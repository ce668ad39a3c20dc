import Foundation

/// One state change of a run, as the coordinator journals it.
public enum JournalEvent: Codable, Sendable, Equatable {
    /// A coordinator (re)started the job: its hash, task and prompt counts.
    case started(jobHash: String, tasks: Int, prompts: Int)
    /// A task was handed to a worker (informational: leases are not resumed).
    case taskAssigned(taskID: Int, workerID: String)
    /// A task's shard was verified (sha256) and accepted. Never redone after a restart.
    case taskCompleted(taskID: Int, workerID: String, sha256: String, promptsDone: Int, promptsFailed: Int)
    /// A task failed as a whole (its worker could not write the shard, or it failed too often).
    case taskFailed(taskID: Int, reason: String)
    /// Every task completed or failed.
    case finished
}

/// The coordinator's append-only journal (`journal.jsonl`): one JSON event a line, written with
/// `write(2)` and `fsync`ed before the coordinator acts on it (`append`), or, for completions,
/// fsync'd together after a burst of messages (`appendDeferred`, `sync`). A torn last line (a
/// kill during the write) is ignored on replay.
public final class Journal: @unchecked Sendable {
    public let url: URL
    private let fd: Int32
    private let lock = NSLock()
    private var unsynced = false
    /// The background sync's stop flag while it runs (`startBackgroundSync`).
    private var syncer: StopFlag?
    /// A failed background fsync, thrown by the next `append` or `sync`.
    private var backgroundError: JournalError?

    /// Opens (creating if needed) the journal for appending.
    public init(url: URL) throws {
        self.url = url
        fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError(path: url.path, reason: String(cString: strerror(errno))) }
        // A torn last line has no newline: start our first record on a fresh line.
        if let data = FileManager.default.contents(atPath: url.path), let last = data.last, last != UInt8(ascii: "\n") {
            _ = "\n".withCString { write(fd, $0, 1) }
        }
    }

    deinit {
        syncer?.set()   // the thread holds no reference to us between rounds: it just ends
        close(fd)
    }

    /// Appends `event` and waits until it is on disk.
    public func append(_ event: JournalEvent) throws {
        try append(contentsOf: [event])
    }

    /// Appends `events` in order with one write and one fsync, and waits until they are on disk.
    public func append(contentsOf events: [JournalEvent]) throws {
        try writeLines(events)
        try sync()
    }

    /// Appends `event` without waiting for the disk: it is durable after the next `sync()` (or
    /// `append`). For events whose loss in a crash only costs redoing work: a completed task
    /// whose record did not reach the disk is traced again by the next session, never lost.
    public func appendDeferred(_ event: JournalEvent) throws {
        try writeLines([event])
        lock.withLock { unsynced = true }
    }

    /// Waits until every event appended so far is on disk. Appends may go on meanwhile (the
    /// lock is not held during the fsync); those after its start wait for the next one.
    public func sync() throws {
        if let error = lock.withLock({ backgroundError }) { throw error }
        lock.withLock { unsynced = false }
        guard fsync(fd) == 0 else {
            let error = JournalError(path: url.path, reason: "fsync failed: \(String(cString: strerror(errno)))")
            lock.withLock { unsynced = true }
            throw error
        }
    }

    /// Whether events were appended since the last `sync()`.
    public var needsSync: Bool { lock.withLock { unsynced } }

    /// Makes deferred events durable from a thread of its own, within about `interval` of
    /// their append, so that the appending thread (the coordinator's message loop) never waits
    /// for the disk (an fsync takes milliseconds). Stopped, with a last sync, by
    /// `stopBackgroundSync()`; a failed fsync is thrown by the next `append` or `sync`.
    public func startBackgroundSync(every interval: Duration = .milliseconds(5)) {
        lock.withLock {
            guard syncer == nil else { return }
            let stop = StopFlag()
            syncer = stop
            let thread = Thread { [weak self] in
                while !stop.isSet {
                    Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
                    guard let self, self.needsSync else { continue }
                    do { try self.sync() } catch let error as JournalError { self.lock.withLock { self.backgroundError = error } } catch {}
                }
                stop.finished()
            }
            thread.name = "journal-sync"
            thread.start()
        }
    }

    /// Stops the background sync (waiting for its thread) and syncs what is left.
    public func stopBackgroundSync() throws {
        guard let stop = lock.withLock({ syncer }) else { return }
        stop.set()
        stop.waitUntilFinished()
        lock.withLock { syncer = nil }
        try sync()
    }

    private func writeLines(_ events: [JournalEvent]) throws {
        let encoder = JSONEncoder(), time = Date().timeIntervalSince1970
        var lines = Data()
        for event in events {
            if let line = Self.plainLine(event, time: time) { lines.append(contentsOf: line) } else {
                lines.append(try encoder.encode(Record(time: time, event: event)))
            }
            lines.append(UInt8(ascii: "\n"))
        }
        lock.lock()
        defer { lock.unlock() }
        var offset = 0
        while offset < lines.count {
            let written = lines.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw JournalError(path: url.path, reason: "write failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Every complete event of the journal at `url`, in order. Unparseable lines are skipped only
    /// at the end of the file (a torn write); elsewhere they are an error. Lines are decoded in
    /// parallel chunks, the per-task ones by `JournalLineScanner` (a million-task journal
    /// replays in seconds: `circuits bench coordinator`).
    public static func replay(_ url: URL) throws -> [JournalEvent] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return try data.withUnsafeBytes { bytes in
            // Every non-empty line, as a byte range.
            var ranges: [Range<Int>] = []
            var start = 0
            while start < bytes.count {
                let rest = bytes.count - start
                let newline = memchr(bytes.baseAddress! + start, Int32(UInt8(ascii: "\n")), rest)
                let end = newline.map { UnsafeRawPointer($0) - bytes.baseAddress! } ?? bytes.count
                if end > start { ranges.append(start..<end) }
                start = end + 1
            }
            let lines = ranges
            let chunk = 8192, chunks = (lines.count + chunk - 1) / chunk
            // Per line: the event, or nil for a line to skip; per chunk, the first error. Each
            // chunk writes only its own slot of the two buffers.
            var decoded = [[JournalEvent?]](repeating: [], count: chunks)
            var failures = [JournalError?](repeating: nil, count: chunks)
            decoded.withUnsafeMutableBufferPointer { decodedSlots in failures.withUnsafeMutableBufferPointer { failureSlots in
                nonisolated(unsafe) let out = decodedSlots, errors = failureSlots, bytes = bytes   // read-only, or one slot per chunk
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let decoder = JSONDecoder()
                    var events: [JournalEvent?] = [], failure: JournalError?
                    events.reserveCapacity(chunk)
                    for k in (c * chunk)..<min((c + 1) * chunk, lines.count) {
                        let raw = UnsafeRawBufferPointer(rebasing: bytes[lines[k]])
                        if let event = JournalLineScanner.event(raw) {
                            events.append(event)
                            continue
                        }
                        let line = Data(raw)
                        do {
                            events.append(try decoder.decode(Record.self, from: line).event)
                        } catch {
                            events.append(nil)
                            // The last line may be torn; a torn line followed by later records (a
                            // restart appended after it) too, but only if it is not JSON at all.
                            if k == lines.count - 1 || (try? JSONSerialization.jsonObject(with: line)) == nil { continue }
                            failure = failure ?? JournalError(path: url.path, reason: "line \(k + 1) is not a journal event: \(error)")
                        }
                    }
                    out[c] = events
                    errors[c] = failure
                }
            }}
            if let error = failures.lazy.compactMap({ $0 }).first { throw error }
            return decoded.flatMap { $0.compactMap { $0 } }
        }
    }

    /// The line of a `taskCompleted` event (one per task) written without `JSONEncoder`: the same
    /// JSON `Record` encodes to (tests check it decodes to the same record); nil for the others.
    static func plainLine(_ event: JournalEvent, time: Double) -> [UInt8]? {
        guard case let .taskCompleted(task, worker, sha256, done, failed) = event, time.isFinite else { return nil }
        var w = PlainJSON.Writer()
        w.raw("{\"time\":"); w.double(time)
        w.raw(",\"event\":{\"taskCompleted\":{\"taskID\":"); w.int(task)
        w.raw(",\"workerID\":"); w.string(worker)
        w.raw(",\"sha256\":"); w.string(sha256)
        w.raw(",\"promptsDone\":"); w.int(done)
        w.raw(",\"promptsFailed\":"); w.int(failed)
        w.raw("}}}")
        return w.bytes
    }

    struct Record: Codable {
        var time: Double
        var event: JournalEvent
    }
}

/// A flag one thread sets and another polls, and a wait for the poller to finish.
private final class StopFlag: @unchecked Sendable {
    private let condition = NSCondition()
    private var flag = false, done = false
    var isSet: Bool { condition.withLock { flag } }
    func set() { condition.withLock { flag = true } }
    func finished() { condition.withLock { done = true; condition.broadcast() } }
    func waitUntilFinished() { condition.withLock { while !done { condition.wait() } } }
}

public struct JournalError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "journal \(path): \(reason)" }
}
