// The CLI's log handler (line format, level filtering) and --log-level on real processes:
// a worker's debug lines, a quiet worker, one `error:` line for bad input at any level, and a
// benchmark whose JSON line stays last.
import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
@testable import circuits

/// Lines a handler wrote, for inspection.
final class CapturedLines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    func logger(_ label: String, level: Logger.Level, detailed: Bool = false) -> Logger {
        Logger(label: label) { label in
            StandardErrorLogHandler(label: label, logLevel: level, detailed: detailed) { line in self.lines.withLock { $0.append(line) } }
        }
    }
}

@Suite struct LogHandlerTests {
    static let time = Date(timeIntervalSince1970: 1_700_000_000.25)   // exact in binary: milliseconds are truncated

    @Test(arguments: [
        (Logger.Level.trace, "trace: worker w1: heartbeat"), (.debug, "debug: worker w1: heartbeat"),
        (.info, "worker w1: heartbeat"), (.notice, "worker w1: heartbeat"), (.warning, "warning: worker w1: heartbeat"),
        (.error, "error: worker w1: heartbeat"), (.critical, "critical: worker w1: heartbeat"),
    ])
    func terminalLinesHaveALevelPrefixExceptInfoAndNotice(level: Logger.Level, expected: String) {
        let line = StandardErrorLogHandler.line(level: level, message: "worker w1: heartbeat", label: "circuits.worker",
                                                metadata: ["worker": "w1"], time: nil)
        #expect(line == expected, "level \(level)")
    }

    @Test func detailedLinesCarryTimestampLabelAndSortedMetadata() {
        let warning = StandardErrorLogHandler.line(level: .warning, message: "coordinator: task 3 failed on w1: disk full",
                                                   label: "circuits.coordinator", metadata: ["worker": "w1", "task": "3"], time: Self.time)
        #expect(warning == "2023-11-14T22:13:20.250Z [circuits.coordinator task=3 worker=w1] warning: coordinator: task 3 failed on w1: disk full")
        let info = StandardErrorLogHandler.line(level: .info, message: "run: job abc", label: "circuits.run", metadata: [:], time: Self.time)
        #expect(info == "2023-11-14T22:13:20.250Z [circuits.run] run: job abc")
    }

    @Test func loggerMetadataAndMessageMetadataAreMerged() {
        let captured = CapturedLines()
        var logger = captured.logger("circuits.worker", level: .info, detailed: true)
        logger[metadataKey: "worker"] = "w1"
        logger[metadataKey: "task"] = "1"
        logger.info("worker w1: task 2 done", metadata: ["task": "2"])
        let line = captured.all.first ?? ""
        #expect(line.hasSuffix(" [circuits.worker task=2 worker=w1] worker w1: task 2 done\n"), "\(line)")
        #expect(line.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z .*\n/) != nil, "\(line)")
    }

    @Test(arguments: Logger.Level.allCases)
    func linesBelowTheLevelAreDropped(level: Logger.Level) {
        let captured = CapturedLines()
        let logger = captured.logger("circuits.test", level: level)
        for l in Logger.Level.allCases { logger.log(level: l, "\(l)") }
        let expected = Logger.Level.allCases.filter { $0 >= level }
        #expect(captured.all.count == expected.count)
        #expect(captured.all.last == "critical: critical\n")
        #expect(captured.all.first == StandardErrorLogHandler.line(level: level, message: "\(level)", label: "", metadata: [:], time: nil) + "\n")
    }
}

@Suite struct LogLevelOptionTests {
    /// A worker pointed at a port nobody serves: gives up after its patience (about 5 s).
    func lonelyWorker(_ level: String, in folder: ScratchFolder) throws -> (status: Int32?, stdout: String, stderr: String) {
        try CircuitsProcess.run(["worker", "--connect", "tcp://127.0.0.1:1", "--patience", "1", "--id", "w1",
                                 "--threads", "1", "--log-level", level], in: folder.url, seconds: 60)
    }

    @Test func debugShowsTheWorkersWaitsWithTimestampsAndMetadata() throws {
        let folder = try ScratchFolder("log-debug")
        defer { folder.remove() }
        let r = try lonelyWorker("debug", in: folder)
        #expect(r.status == 2, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(" [circuits.worker worker=w1] worker w1: connecting to tcp://127.0.0.1:1") }, "\(r.stderr)")
        #expect(lines.contains { $0.contains("] debug: worker w1: no job from tcp://127.0.0.1:1 yet") }, "\(r.stderr)")
        #expect(lines.last?.hasPrefix("error: the coordinator at tcp://127.0.0.1:1 has not answered") == true, "\(r.stderr)")
    }

    @Test func errorLevelLeavesOnlyTheErrorLine() throws {
        let folder = try ScratchFolder("log-error")
        defer { folder.remove() }
        let r = try lonelyWorker("error", in: folder)
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: the coordinator at tcp://127.0.0.1:1"), "\(r.stderr)")
    }

    @Test(arguments: ["debug", "info", "critical"])
    func badInputIsOneErrorLineAndStatus2AtEveryLevel(level: String) throws {
        let folder = try ScratchFolder("log-bad-input")
        defer { folder.remove() }
        let r = try CircuitsProcess.run(["run", folder.file("missing.yaml").path, "--log-level", level], in: folder.url, seconds: 30)
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(r.stderr)")
    }

    @Test func everyCommandTakesTheOptionAndRejectsUnknownLevels() throws {
        let folder = try ScratchFolder("log-help")
        defer { folder.remove() }
        for command in [["run"], ["worker"], ["coordinator"], ["trace"], ["merge"], ["bench", "attribution"], ["train-transcoders"]] {
            let help = try CircuitsProcess.run(command + ["--help"], in: folder.url, seconds: 30)
            #expect(help.status == 0 && help.stdout.contains("--log-level <level>"), "\(command): \(help.stdout)")
        }
        let bad = try CircuitsProcess.run(["merge", folder.url.path, "--log-level", "loud"], in: folder.url, seconds: 30)
        #expect(bad.status == 64 && bad.stderr.contains("--log-level"), "\(bad.stderr)")
    }

    /// `circuits bench global-weights` on a tiny set: its last line, on stdout and stderr
    /// together, is its JSON object.
    @Test func benchmarkEndsWithItsJSONLine() throws {
        let folder = try ScratchFolder("log-bench")
        defer { folder.remove() }
        let output = folder.file("combined.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        let p = Process()
        p.executableURL = circuitsExecutable
        p.arguments = ["bench", "global-weights", "--layers", "2", "--d-model", "16", "--width", "32", "--targets", "4",
                       "--tokens", "20", "--active-per-slot", "2", "--threads", "1", "--log-level", "debug"]
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        try handle.close()
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        #expect(p.terminationStatus == 0, "\(lines)")
        #expect(lines.contains { $0.contains("virtual weights: ") }, "the log lines came too: \(lines)")
        let last = lines.last.map { Data($0.utf8) } ?? Data()
        #expect((try? JSONSerialization.jsonObject(with: last)) is [String: Any], "last line: \(lines.last ?? "")")
    }
}
