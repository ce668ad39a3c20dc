import Foundation
import Storage

/// `MessageCodec`'s fast path for the messages of every task (`ready`, `task`, `result`,
/// `heartbeat`, `idle`, `shutdown`): the same JSON `Message`'s `Codable` conformance reads and
/// writes (`{"ready":{"workerID":"w1"}}`, `{"result":{"_0":{…}}}`), without `JSONEncoder` and
/// `JSONDecoder` (several microseconds a message, a good part of the coordinator's time per task
/// with a thousand workers).
///
/// `decode` reads only the plain form (`PlainJSON`: no escapes, no unknown or duplicate keys, no
/// nulls) and returns nil for anything else, which `MessageCodec` then hands to `JSONDecoder`;
/// `encode` returns nil for the other kinds (and a bridge-swap task, a non-finite number). Tests
/// check both against `JSONEncoder`/`JSONDecoder`.
enum MessageFastPath {
    /// The JSON payload of `message`, or nil when it is not a hot kind.
    static func encode(_ message: Message) -> [UInt8]? {
        var w = PlainJSON.Writer()
        switch message {
        case let .ready(id):
            w.raw("{\"ready\":{\"workerID\":"); w.string(id); w.raw("}}")
        case let .idle(ms):
            w.raw("{\"idle\":{\"retryMilliseconds\":"); w.int(ms); w.raw("}}")
        case .shutdown:
            w.raw("{\"shutdown\":{}}")
        case let .heartbeat(id, task, attempt):
            w.raw("{\"heartbeat\":{\"workerID\":"); w.string(id)
            if let task { w.raw(",\"taskID\":"); w.int(task) }
            if let attempt { w.raw(",\"attempt\":"); w.int(attempt) }
            w.raw("}}")
        case let .result(r):
            guard r.seconds.isFinite else { return nil }
            w.raw("{\"result\":{\"_0\":{\"taskID\":"); w.int(r.taskID)
            w.raw(",\"attempt\":"); w.int(r.attempt)
            w.raw(",\"workerID\":"); w.string(r.workerID)
            w.raw(",\"sha256\":"); w.string(r.sha256)
            w.raw(",\"promptsDone\":"); w.int(r.promptsDone)
            w.raw(",\"promptsFailed\":"); w.int(r.promptsFailed)
            w.raw(",\"seconds\":"); w.double(r.seconds)
            w.raw("}}}")
        case let .task(t):
            guard t.swaps == nil else { return nil }
            w.raw("{\"task\":{\"_0\":{\"taskID\":"); w.int(t.taskID)
            w.raw(",\"attempt\":"); w.int(t.attempt)
            w.raw(",\"jobHash\":"); w.string(t.jobHash)
            w.raw(",\"prompts\":[")
            for (k, p) in t.prompts.enumerated() {
                if k > 0 { w.raw(",") }
                w.raw("{\"id\":"); w.string(p.id)
                w.raw(",\"text\":"); w.string(p.text)
                if let label = p.label { w.raw(",\"label\":"); w.string(label) }
                w.raw("}")
            }
            w.raw("]}}}")
        default:
            return nil
        }
        return w.bytes
    }

    /// The message of a plain payload of a hot kind, or nil (then `JSONDecoder` decides).
    static func decode(_ payload: UnsafeRawBufferPointer) -> Message? {
        guard case let .object(top)? = PlainJSON.parse(payload), top.count == 1, let (kind, body) = top.first,
              case let .object(f) = body else { return nil }
        switch kind {
        case "ready":
            guard f.count == 1, let id = f["workerID"]?.string else { return nil }
            return .ready(workerID: id)
        case "idle":
            guard f.count == 1, let ms = f["retryMilliseconds"]?.int else { return nil }
            return .idle(retryMilliseconds: ms)
        case "shutdown":
            return f.isEmpty ? .shutdown : nil
        case "heartbeat":
            guard let id = f["workerID"]?.string else { return nil }
            let task = f["taskID"], attempt = f["attempt"]
            guard f.count == 1 + (task == nil ? 0 : 1) + (attempt == nil ? 0 : 1),
                  task == nil || task?.int != nil, attempt == nil || attempt?.int != nil else { return nil }
            return .heartbeat(workerID: id, taskID: task?.int, attempt: attempt?.int)
        case "result":
            guard f.count == 1, case let .object(r)? = f["_0"], r.count == 7,
                  let task = r["taskID"]?.int, let attempt = r["attempt"]?.int, let id = r["workerID"]?.string,
                  let sha = r["sha256"]?.string, let done = r["promptsDone"]?.int, let failed = r["promptsFailed"]?.int,
                  let seconds = r["seconds"]?.double else { return nil }
            return .result(TaskResult(taskID: task, attempt: attempt, workerID: id, sha256: sha,
                                      promptsDone: done, promptsFailed: failed, seconds: seconds))
        case "task":
            guard f.count == 1, case let .object(t)? = f["_0"], t.count == 4,
                  let task = t["taskID"]?.int, let attempt = t["attempt"]?.int, let hash = t["jobHash"]?.string,
                  case let .array(list)? = t["prompts"] else { return nil }
            var prompts: [PromptItem] = []
            prompts.reserveCapacity(list.count)
            for item in list {
                guard case let .object(p) = item, let id = p["id"]?.string, let text = p["text"]?.string else { return nil }
                let label = p["label"]
                guard p.count == (label == nil ? 2 : 3), label == nil || label?.string != nil else { return nil }
                prompts.append(PromptItem(id: id, text: text, label: label?.string))
            }
            return .task(TaskAssignment(taskID: task, attempt: attempt, jobHash: hash, prompts: prompts))
        default:
            return nil
        }
    }
}
