/// A fast reader for the journal's most frequent lines, `taskCompleted` and `taskAssigned`
/// events (one per task: a million for a million-task job), which `JSONDecoder` reads at about
/// 10 µs a line. It accepts only the plain form `JSONEncoder` writes (keys in any order, strings
/// without escapes, integer counts) and returns nil for anything else, which the caller then
/// decodes with `JSONDecoder`: the result is the same either way.
enum JournalLineScanner {
    /// The event of one line, or nil when the line is not a plain `taskCompleted` or `taskAssigned` record.
    static func event(_ line: UnsafeRawBufferPointer) -> JournalEvent? {
        var s = Scanner(bytes: line)
        guard case let .object(record)? = s.value(), s.atEnd,
              record.count == 2, case .number? = record["time"], case let .object(event)? = record["event"], event.count == 1,
              let (name, body) = event.first, case let .object(fields) = body else { return nil }
        func int(_ key: String) -> Int? {
            guard case let .number(text)? = fields[key] else { return nil }
            return Int(text)
        }
        func string(_ key: String) -> String? {
            guard case let .string(text)? = fields[key] else { return nil }
            return text
        }
        switch name {
        case "taskCompleted":
            guard fields.count == 5, let task = int("taskID"), let worker = string("workerID"), let sha = string("sha256"),
                  let done = int("promptsDone"), let failed = int("promptsFailed") else { return nil }
            return .taskCompleted(taskID: task, workerID: worker, sha256: sha, promptsDone: done, promptsFailed: failed)
        case "taskAssigned":
            guard fields.count == 2, let task = int("taskID"), let worker = string("workerID") else { return nil }
            return .taskAssigned(taskID: task, workerID: worker)
        default:
            return nil
        }
    }

    /// The JSON values these lines hold: objects, strings without escapes, numbers (as text).
    enum Value {
        case object([String: Value])
        case string(String)
        case number(String)
    }

    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        var atEnd: Bool { mutating get { skipSpace(); return i == bytes.count } }

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[i]) { i += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func value() -> Value? {
            skipSpace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "\""): return string().map(Value.string)
            default: return number().map(Value.number)
            }
        }

        mutating func object() -> Value? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields: [String: Value] = [:]
            if take(UInt8(ascii: "}")) { return .object(fields) }
            repeat {
                skipSpace()
                guard let key = string(), take(UInt8(ascii: ":")), let v = value(), fields.updateValue(v, forKey: key) == nil else { return nil }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? .object(fields) : nil
        }

        /// A string without escapes or control characters (else nil: the decoder reads it).
        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            let start = i + 1
            var j = start
            while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                if bytes[j] == UInt8(ascii: "\\") || bytes[j] < 0x20 { return nil }
                j += 1
            }
            guard j < bytes.count else { return nil }
            i = j + 1
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<j]), as: UTF8.self)
        }

        /// A JSON number's text.
        mutating func number() -> String? {
            let start = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) || "-+.eE".utf8.contains(bytes[i]) { i += 1 }
            return i > start ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) : nil
        }
    }
}
