import Foundation
import Storage
import Testing
@testable import Shared

/// The codec's fast path agrees with `JSONEncoder`/`JSONDecoder`: what it writes decodes to the
/// same message, what it reads is what the decoder reads, and anything it is not sure of (escapes,
/// unknown keys, bad numbers, invalid UTF-8, torn or mutated payloads) it leaves to the decoder.
@Suite struct MessageFastPathTests {
    static let sha = String(repeating: "0123456789abcdef", count: 4)

    /// Hot messages whose strings `JSONEncoder` writes without escapes.
    static let plain: [Message] = [
        .ready(workerID: "sim-0"),
        .ready(workerID: "wörker ü 日本"),
        .ready(workerID: ""),
        .idle(retryMilliseconds: 500),
        .idle(retryMilliseconds: -3),
        .shutdown,
        .heartbeat(workerID: "node7-42-0", taskID: nil, attempt: nil),
        .heartbeat(workerID: "node7-42-0", taskID: 12, attempt: 3),
        .heartbeat(workerID: "w", taskID: 0, attempt: nil),
        .result(TaskResult(taskID: 9_999_999, attempt: 2, workerID: "sim-17", sha256: sha, promptsDone: 8, promptsFailed: 0, seconds: 0)),
        .result(TaskResult(taskID: 0, attempt: 1, workerID: "w", sha256: "", promptsDone: 0, promptsFailed: 12, seconds: 1234.5678)),
        .result(TaskResult(taskID: 5, attempt: 1, workerID: "w", sha256: sha, promptsDone: 1, promptsFailed: 0, seconds: 1e-7)),
        .result(TaskResult(taskID: Int.max, attempt: Int.min, workerID: "w", sha256: sha, promptsDone: 1, promptsFailed: 0, seconds: 3.5e12)),
        .task(TaskAssignment(taskID: 3, attempt: 1, jobHash: sha, prompts: [PromptItem(id: "p00000003", text: "bench prompt 3")])),
        .task(TaskAssignment(taskID: 4, attempt: 7, jobHash: sha, prompts: [
            PromptItem(id: "a", text: "fact : the capital of the state containing dallas is", label: "texas"),
            PromptItem(id: "b", text: "ünïcode — text", label: nil),
            PromptItem(id: "c", text: "", label: ""),
        ])),
    ]

    /// Hot messages with strings that need escapes.
    static let escaped: [Message] = [
        .ready(workerID: "quote \" and back\\slash"),
        .heartbeat(workerID: "tab\tnew\nline\r\u{1}", taskID: 1, attempt: 1),
        .result(TaskResult(taskID: 1, attempt: 1, workerID: "a/b", sha256: "\u{7f}\u{1f}", promptsDone: 1, promptsFailed: 0, seconds: 0.25)),
        .task(TaskAssignment(taskID: 2, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "x\"", text: "line 1\nline 2 \\ end", label: "l\u{0}")])),
    ]

    static func payload(_ frame: Data) -> Data { frame.dropFirst(MessageCodec.headerSize) }

    static func fastDecode(_ payload: Data) -> Message? { payload.withUnsafeBytes { MessageFastPath.decode($0) } }

    @Test(arguments: plain + escaped) func writesWhatTheDecoderReadsBack(_ message: Message) throws {
        let fast = try #require(MessageFastPath.encode(message), "\(message.kind) has a fast encoding")
        #expect(try JSONDecoder().decode(Message.self, from: Data(fast)) == message, "\(String(decoding: fast, as: UTF8.self))")
        #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
    }

    @Test(arguments: plain) func readsWhatTheEncoderWrites(_ message: Message) throws {
        let json = try JSONEncoder().encode(message)
        #expect(Self.fastDecode(json) == message, "\(String(decoding: json, as: UTF8.self))")
        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys]
        #expect(Self.fastDecode(try pretty.encode(message)) == message, "whitespace and key order do not matter")
    }

    /// Escaped strings are left to the decoder (which reads them right).
    @Test(arguments: escaped) func leavesEscapesToTheDecoder(_ message: Message) throws {
        #expect(Self.fastDecode(try JSONEncoder().encode(message)) == nil)
        #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
    }

    @Test func otherKindsGoThroughCodable() throws {
        let swaps = TaskAssignment(taskID: 1, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")], swaps: [
            BridgeSwapItem(id: "p", bridge: "x", target: "y", answer: "a", targetAnswer: "b", bridgeFeatures: [[0, 1]], targetFeatures: [[1, 2]], targetValues: [0.5]),
        ])
        let others: [Message] = [
            .hello(workerID: "w", capabilities: WorkerCapabilities(host: "h", pid: 1, threads: 2, version: "v")),
            .failure(taskID: 1, attempt: 1, workerID: "w", reason: "r", transient: false),
            .goodbye(workerID: "w", reason: "r"),
            .reject(reason: "r"),
            .task(swaps),
        ]
        for m in others {
            #expect(MessageFastPath.encode(m) == nil, "\(m.kind)")
            #expect(Self.fastDecode(try JSONEncoder().encode(m)) == nil, "\(m.kind)")
            #expect(try MessageCodec.decode(MessageCodec.encode(m)) == m)
        }
        let nan = Message.result(TaskResult(taskID: 1, attempt: 1, workerID: "w", sha256: "s", promptsDone: 0, promptsFailed: 0, seconds: .nan))
        #expect(MessageFastPath.encode(nan) == nil)
        #expect(throws: (any Error).self) { try MessageCodec.encode(nan) }
    }

    /// Payloads the fast path must not take (the decoder refuses them, or reads them otherwise).
    @Test(arguments: [
        #"{"ready":{"workerID":"a"}} x"#,
        #"{"ready":{"workerID":"a","workerID":"b"}}"#,
        #"{"ready":{"workerID":"a"},"idle":{"retryMilliseconds":1}}"#,
        #"{"ready":{"workerID":"a","extra":1}}"#,
        #"{"ready":{"workerID":null}}"#,
        #"{"idle":{"retryMilliseconds":+1}}"#,
        #"{"idle":{"retryMilliseconds":01}}"#,
        #"{"idle":{"retryMilliseconds":1.0}}"#,
        #"{"idle":{"retryMilliseconds":1e2}}"#,
        #"{"idle":{"retryMilliseconds":99999999999999999999}}"#,
        #"{"heartbeat":{"workerID":"w","taskID":null}}"#,
        #"{"heartbeat":{"workerID":"w","taskID":"1"}}"#,
        #"{"result":{"_0":{"taskID":1,"attempt":1,"workerID":"w","sha256":"s","promptsDone":1,"promptsFailed":0,"seconds":1.}}}"#,
        #"{"result":{"_0":{"taskID":1,"attempt":1,"workerID":"w","sha256":"s","promptsDone":1,"promptsFailed":0,"seconds":1e999}}}"#,
        #"{"result":{"_0":{"taskID":1,"attempt":1,"workerID":"w","sha256":"s","promptsDone":1,"promptsFailed":0}}}"#,
        #"{"task":{"_0":{"taskID":1,"attempt":1,"jobHash":"h","prompts":[{"id":"p"}]}}}"#,
        #"{"task":{"_0":{"taskID":1,"attempt":1,"jobHash":"h","prompts":[{"id":"p","text":"t","label":null}]}}}"#,
        #"{"shutdown":{"x":1}}"#,
        #"{"shutdown":true}"#,
        #"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
        "",
    ])
    func leavesWhatItIsNotSureOfToTheDecoder(_ text: String) {
        #expect(Self.fastDecode(Data(text.utf8)) == nil)
    }

    @Test func refusesInvalidUTF8() {
        var bytes = Array(#"{"ready":{"workerID":"ab"}}"#.utf8)
        bytes[bytes.count - 5] = 0xFF
        #expect(Self.fastDecode(Data(bytes)) == nil)
        #expect((try? JSONDecoder().decode(Message.self, from: Data(bytes))) == nil)
    }

    /// Every prefix and many seeded one-byte changes of real payloads: whenever the fast path
    /// reads one, `JSONDecoder` reads the same message.
    @Test func agreesWithTheDecoderOnTornAndMutatedPayloads() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let alphabet = Array(#"{}[]":,0123456789-+.eE aAtrufnl\"#.utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        var taken = 0
        for message in Self.plain {
            let payload = Array(try JSONEncoder().encode(message))
            var variants = (0..<payload.count).map { Array(payload[..<$0]) }
            for _ in 0..<300 {
                var v = payload
                v[next() % v.count] = alphabet[next() % alphabet.count]
                variants.append(v)
            }
            for v in variants {
                guard let fast = Self.fastDecode(Data(v)) else { continue }
                taken += 1
                let slow = try? JSONDecoder().decode(Message.self, from: Data(v))
                #expect(slow == fast, "\(String(decoding: v, as: UTF8.self))")
            }
        }
        #expect(taken > Self.plain.count, "some mutations (digits, letters in strings) stay plain JSON")
    }

    /// The journal's per-task line, written without `JSONEncoder`, reads back as the same event,
    /// through the decoder and through `JournalLineScanner`.
    @Test(arguments: [("sim-0", Self.sha), ("wörker ü", ""), ("quote \" back\\slash\nnew", "x")])
    func journalLinesReadBack(_ worker: String, _ sha: String) throws {
        let event = JournalEvent.taskCompleted(taskID: 123_456, workerID: worker, sha256: sha, promptsDone: 7, promptsFailed: 1)
        let line = Data(try #require(Journal.plainLine(event, time: 1_796_006_359.633)))
        let record = try JSONDecoder().decode(Journal.Record.self, from: line)
        #expect(record.event == event && record.time == 1_796_006_359.633)
        let scanned = line.withUnsafeBytes(JournalLineScanner.event)
        #expect(scanned == event || (scanned == nil && worker.contains("\"")), "\(String(decoding: line, as: UTF8.self))")
        #expect(Journal.plainLine(.finished, time: 1) == nil)
    }
}
