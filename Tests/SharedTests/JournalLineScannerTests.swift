import Foundation
import Testing
@testable import Shared

/// The journal's fast line reader agrees with `JSONDecoder` on every line it accepts, accepts
/// the plain per-task lines, and leaves everything else to the decoder.
@Suite struct JournalLineScannerTests {
    static func line(_ event: JournalEvent) throws -> Data {
        try JSONEncoder().encode(Journal.Record(time: 1_796_006_359.633, event: event))
    }

    static func scanned(_ data: Data) -> JournalEvent? { data.withUnsafeBytes(JournalLineScanner.event) }

    @Test func agreesWithTheDecoderAndTakesThePlainPerTaskLines() throws {
        let plain: [JournalEvent] = [
            .taskCompleted(taskID: 0, workerID: "sim-0", sha256: String(repeating: "ab", count: 32), promptsDone: 8, promptsFailed: 0),
            .taskCompleted(taskID: 999_999, workerID: "node17-4242-3", sha256: "", promptsDone: 0, promptsFailed: 12),
            .taskAssigned(taskID: 42, workerID: "wörker ü"),
        ]
        let others: [JournalEvent] = [
            .taskCompleted(taskID: 1, workerID: "quote \" inside", sha256: "x", promptsDone: 1, promptsFailed: 0),
            .taskAssigned(taskID: 2, workerID: "back\\slash"),
            .taskAssigned(taskID: 3, workerID: "new\nline"),
            .started(jobHash: "h", tasks: 3, prompts: 9),
            .taskFailed(taskID: 4, reason: "disk full"),
            .finished,
        ]
        for e in plain {
            let data = try Self.line(e)
            #expect(Self.scanned(data) == e, "\(String(decoding: data, as: UTF8.self))")
            #expect(try JSONDecoder().decode(Journal.Record.self, from: data).event == e)
        }
        for e in others { #expect(Self.scanned(try Self.line(e)) == nil, "\(e) is left to the decoder") }
    }

    @Test func rejectsTornAndMalformedLines() throws {
        let data = try Self.line(.taskCompleted(taskID: 7, workerID: "w", sha256: "s", promptsDone: 1, promptsFailed: 2))
        for cut in 0..<data.count { #expect(Self.scanned(data.prefix(cut)) == nil, "prefix of \(cut) bytes") }
        for text in [#"{"time":1,"event":{"taskCompleted":{"taskID":1.5,"workerID":"w","sha256":"s","promptsDone":1,"promptsFailed":2}}}"#,
                     #"{"time":1,"event":{"taskCompleted":{"taskID":1,"workerID":"w","sha256":"s","promptsDone":1}}}"#,
                     #"{"time":1,"event":{"taskAssigned":{"taskID":1,"workerID":"w"}},"extra":0}"#,
                     #"{"time":1,"event":{"taskAssigned":{"taskID":1,"taskID":2,"workerID":"w"}}}"#,
                     #"{"time":1,"event":{"taskAssigned":{"taskID":1,"workerID":"w"}}} trailing"#,
                     #"{"time":1,"event":{"taskAssigned":{"taskID":"1","workerID":"w"}}}"#] {
            #expect(Self.scanned(Data(text.utf8)) == nil, "\(text)")
        }
        let spaced = #" { "event" : { "taskAssigned" : { "workerID" : "w" , "taskID" : 5 } } , "time" : 2 } "#
        #expect(Self.scanned(Data(spaced.utf8)) == .taskAssigned(taskID: 5, workerID: "w"))
    }
}
