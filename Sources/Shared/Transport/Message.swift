import Foundation
import Storage

/// What a worker tells the coordinator about itself.
public struct WorkerCapabilities: Codable, Sendable, Equatable {
    public var host: String
    public var pid: Int32
    public var threads: Int
    public var version: String
    public init(host: String, pid: Int32, threads: Int, version: String) {
        self.host = host; self.pid = pid; self.threads = threads; self.version = version
    }
}

/// A task: a run of consecutive prompts of the corpus, traced into one shard. The shard's path
/// is never sent: the worker composes it from the job's output folder, the task id and the
/// attempt (`RunLayout.incomingShard(taskID:attempt:)`), so a coordinator cannot make a worker
/// write anywhere else.
public struct TaskAssignment: Codable, Sendable, Equatable {
    public var taskID: Int
    /// 1 for the first lease of the task, counting up with every re-lease.
    public var attempt: Int
    public var jobHash: String
    public var prompts: [PromptItem]
    /// A bridge-swap task of the evaluation's second phase: one swap per prompt, same order
    /// (its shard holds `/bridge_swap` instead of graphs); nil for an attribution task.
    public var swaps: [BridgeSwapItem]?
    public init(taskID: Int, attempt: Int, jobHash: String, prompts: [PromptItem], swaps: [BridgeSwapItem]? = nil) {
        self.taskID = taskID; self.attempt = attempt; self.jobHash = jobHash; self.prompts = prompts; self.swaps = swaps
    }

    /// Why a worker must not act on this task, or nil: ids and counts in range, swaps (if any)
    /// one per prompt and each well formed (`BridgeSwapItem.problem`).
    public var problem: String? {
        guard taskID >= 0, (1...1_000_000).contains(attempt), (1...Self.maximumPrompts).contains(prompts.count) else {
            return "malformed task (id \(taskID), attempt \(attempt), \(prompts.count) prompts)"
        }
        guard let swaps else { return nil }
        guard swaps.count == prompts.count else { return "task \(taskID): \(swaps.count) bridge swaps for \(prompts.count) prompts" }
        for (s, p) in zip(swaps, prompts) {
            if s.id != p.id { return "task \(taskID): bridge swap \(s.id) for prompt \(p.id)" }
            if let problem = s.problem { return "task \(taskID), prompt \(p.id): \(problem)" }
        }
        return nil
    }

    /// Most prompts one task may carry (a job's `prompts_per_task` is at most 1,000,000).
    public static let maximumPrompts = 1_000_000
}

/// One two-hop prompt's bridge swap, planned by the coordinator from the corpus statistics
/// (`LabelStatistics.responding`) and the facts file: ablate X's responding features, set Y's
/// to `targetValues` where X's were active; success when the top token is `targetAnswer`.
public struct BridgeSwapItem: Codable, Sendable, Equatable {
    public var id: String
    /// X, Y, and their answers (words; the worker tokenizes `" " + answer`).
    public var bridge: String, target: String, answer: String, targetAnswer: String
    /// `[layer, feature]` pairs.
    public var bridgeFeatures: [[Int]]
    public var targetFeatures: [[Int]]
    /// One per target feature: its mean activation over Y's prompts where active.
    public var targetValues: [Double]

    public init(id: String, bridge: String, target: String, answer: String, targetAnswer: String,
                bridgeFeatures: [[Int]], targetFeatures: [[Int]], targetValues: [Double]) {
        self.id = id; self.bridge = bridge; self.target = target; self.answer = answer; self.targetAnswer = targetAnswer
        self.bridgeFeatures = bridgeFeatures; self.targetFeatures = targetFeatures; self.targetValues = targetValues
    }

    /// Most features on either side of one swap.
    public static let maximumFeatures = 1_000_000

    /// Why the item is malformed (a peer's numbers are not trusted), or nil. Feature indices are
    /// checked against the transcoders by the engine.
    public var problem: String? {
        for (name, list) in [("bridge", bridgeFeatures), ("target", targetFeatures)] {
            guard list.count <= Self.maximumFeatures else { return "more than \(Self.maximumFeatures) \(name) features" }
            if let bad = list.first(where: { $0.count != 2 || $0[0] < 0 || $0[1] < 0 }) { return "\(name) feature \(bad) is not [layer, feature]" }
        }
        guard targetValues.count == targetFeatures.count else { return "\(targetValues.count) values for \(targetFeatures.count) target features" }
        if let bad = targetValues.first(where: { !$0.isFinite || abs($0) > 1e30 }) { return "target value \(bad) is not a finite activation" }
        for (name, word) in [("answer", answer), ("target answer", targetAnswer)] where word.isEmpty || word.utf8.count > 1000 {
            return "\(name) must be a word of 1 to 1000 bytes"
        }
        // Written to the shard as HDF5 strings, which end at NUL.
        if [bridge, target, answer, targetAnswer].contains(where: { $0.contains("\0") || $0.utf8.count > 100_000 }) {
            return "bridge, target and answers must be strings without NUL of at most 100000 bytes"
        }
        return nil
    }
}

/// A finished task: which attempt, the shard's sha256, and the worker's prompt counts (for its
/// log; the coordinator counts the shard's own rows).
public struct TaskResult: Codable, Sendable, Equatable {
    public var taskID: Int
    public var attempt: Int
    public var workerID: String
    public var sha256: String
    public var promptsDone: Int
    public var promptsFailed: Int
    public var seconds: Double
    public init(taskID: Int, attempt: Int, workerID: String, sha256: String, promptsDone: Int, promptsFailed: Int, seconds: Double) {
        self.taskID = taskID; self.attempt = attempt; self.workerID = workerID; self.sha256 = sha256
        self.promptsDone = promptsDone; self.promptsFailed = promptsFailed; self.seconds = seconds
    }
}

/// The coordinator–worker protocol. Workers (DEALER) send `hello`, then `ready` whenever they
/// can take a task, `heartbeat` while tracing, and `result` or `failure` per task. The
/// coordinator (ROUTER) answers `hello` with `job` (or `reject`), `ready` with `task` or `idle`
/// (nothing to hand out now; ask again later), and sends `shutdown` when the job is finished.
/// In `ShardTransfer.zeromq` mode a worker sends its shard before its `result`: `shardStart`,
/// then `shardChunk`s, each answered by `shardAck` (the coordinator's offset).
///
/// Neither side trusts the other's numbers: the coordinator accepts a result or failure only
/// from the worker holding the task's lease (its ROUTER routing id, which must equal the
/// message's `workerID`) and counts prompts from the shard itself; a worker bounds `idle`
/// waits and validates the job and every task before acting on them.
public enum Message: Codable, Sendable, Equatable {
    // worker → coordinator
    case hello(workerID: String, capabilities: WorkerCapabilities)
    case ready(workerID: String)
    /// While tracing `taskID` (attempt `attempt`); both nil when idle.
    case heartbeat(workerID: String, taskID: Int?, attempt: Int?)
    case result(TaskResult)
    /// The task failed as a whole. `transient`: an I/O fault of the machine (disk full, I/O
    /// error) rather than of the task; the coordinator retries it after a pause without counting
    /// an attempt.
    case failure(taskID: Int, attempt: Int, workerID: String, reason: String, transient: Bool)
    /// The worker is going away (model failed to load, or asked to stop).
    case goodbye(workerID: String, reason: String)
    /// Shard upload (`ShardTransfer.zeromq`): where to start or resume, then the bytes.
    case shardStart(ShardUploadStart)
    case shardChunk(ShardChunk)
    // coordinator → worker
    case job(JobSpec)
    case reject(reason: String)
    case task(TaskAssignment)
    case idle(retryMilliseconds: Int)
    case shutdown
    case shardAck(ShardAck)

    /// A short name for logs.
    public var kind: String {
        switch self {
        case .hello: "hello"
        case .ready: "ready"
        case .heartbeat: "heartbeat"
        case .result: "result"
        case .failure: "failure"
        case .goodbye: "goodbye"
        case .job: "job"
        case .reject: "reject"
        case .task: "task"
        case .idle: "idle"
        case .shutdown: "shutdown"
        case .shardStart: "shardStart"
        case .shardChunk: "shardChunk"
        case .shardAck: "shardAck"
        }
    }
}

/// The wire format of one message frame: magic `CIRC`, protocol version (UInt16, big endian),
/// payload length (UInt32, big endian), then the payload (JSON of `Message`). A frame whose
/// magic, version or length does not match is rejected with a `MessageError` naming the cause.
/// The messages of every task go through `MessageFastPath` (same JSON, without `JSONEncoder` and
/// `JSONDecoder`), the others and anything not in plain form through `Codable`.
public enum MessageCodec {
    public static let magic: [UInt8] = Array("CIRC".utf8)
    /// 2: task paths composed by workers, attempts in results and heartbeats, transient failures.
    /// 3: the job's `evaluation` section, bridge-swap tasks (`TaskAssignment.swaps`).
    /// 4: shard upload over the connection (`shardStart`, `shardChunk`, `shardAck`), the job's `shard_transfer`.
    public static let version: UInt16 = 4
    static let headerSize = 10
    /// Larger frames are refused before decoding (a task of many long prompts stays far below).
    public static let maximumPayload = 256 << 20

    public static func encode(_ message: Message) throws -> Data {
        let fast = MessageFastPath.encode(message)
        let payload = try fast.map { Data($0) } ?? JSONEncoder().encode(message)
        var frame = Data(capacity: headerSize + payload.count)
        frame.append(contentsOf: magic)
        frame.append(UInt8(version >> 8)); frame.append(UInt8(version & 0xff))
        let n = UInt32(payload.count)
        frame.append(contentsOf: [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)])
        frame.append(payload)
        return frame
    }

    public static func decode(_ frame: Data) throws -> Message {
        let bytes = [UInt8](frame)
        guard bytes.count >= headerSize, bytes[0..<4].elementsEqual(magic) else {
            throw MessageError.notACircuitsMessage(bytes: bytes.count)
        }
        let v = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard v == version else { throw MessageError.versionMismatch(theirs: Int(v), ours: Int(version)) }
        let n = Int(UInt32(bytes[6]) << 24 | UInt32(bytes[7]) << 16 | UInt32(bytes[8]) << 8 | UInt32(bytes[9]))
        guard n <= maximumPayload, bytes.count - headerSize == n else {
            throw MessageError.lengthMismatch(declared: n, actual: bytes.count - headerSize)
        }
        if let message = bytes.withUnsafeBytes({ MessageFastPath.decode(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }) {
            return message
        }
        do {
            return try JSONDecoder().decode(Message.self, from: frame.subdata(in: frame.startIndex + headerSize..<frame.endIndex))
        } catch {
            throw MessageError.malformedPayload("\(error)")
        }
    }
}

public enum MessageError: Error, CustomStringConvertible, Equatable {
    case notACircuitsMessage(bytes: Int)
    case versionMismatch(theirs: Int, ours: Int)
    case lengthMismatch(declared: Int, actual: Int)
    case malformedPayload(String)
    case unexpectedFrames(Int)

    public var description: String {
        switch self {
        case let .notACircuitsMessage(n): "not a circuits message (\(n) bytes without the CIRC header)"
        case let .versionMismatch(theirs, ours): "protocol version \(theirs), this build speaks \(ours): run the same circuits version everywhere"
        case let .lengthMismatch(declared, actual): "message declares \(declared) payload bytes but carries \(actual)"
        case let .malformedPayload(reason): "malformed message payload: \(reason)"
        case let .unexpectedFrames(n): "expected one message frame after the routing id, got \(n)"
        }
    }
}
