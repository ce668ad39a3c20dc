import ArgumentParser
import Foundation
import Logging

/// `--log-level`, on every command (`circuits run JOB --log-level debug`).
struct LoggingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Least severe log lines written to standard error.", valueName: "level"))
    var logLevel: Logger.Level = .info
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A command with `@OptionGroup var logging: LoggingOptions`: `Circuits.main` bootstraps the
/// log handler at its level before running it.
protocol LoggingCommand: ParsableCommand {
    var logging: LoggingOptions { get }
}

/// Log lines on standard error, readable on a terminal and in a cluster's log files.
///
/// - On a terminal: the message alone for info and notice (the lines circuits always printed:
///   `worker w1: connecting to tcp://…`), `LEVEL: message` for trace, debug, warning, error
///   and critical (`warning: coordinator: task 3 failed on w1: …`).
/// - Elsewhere (a file, a pipe, a scheduler's log; `circuits run`'s `OUT/logs/worker-N.log`):
///   a UTC timestamp with milliseconds, the logger's label and metadata (keys sorted) in
///   brackets, then the terminal's line unchanged, for grep and for merging the logs of several
///   machines: `2026-03-04T10:15:02.123Z [circuits.coordinator task=3 worker=w1] warning: coordinator: task 3: …`.
///
/// Results go to standard output; `error: …` lines of a failed command are written by
/// `reportingErrors`, not through this handler, so they never carry a timestamp.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Timestamp, label and metadata on every line.
    var detailed: Bool
    /// Where a finished line (newline included) goes: standard error, above a progress line if
    /// one shows, or a test's buffer.
    let output: @Sendable (String) -> Void

    /// - Parameter detailed: default: when standard error is not a terminal.
    init(label: String, logLevel: Logger.Level = .info, detailed: Bool = isatty(STDERR_FILENO) != 1,
         output: @escaping @Sendable (String) -> Void = { StatusLine.standardError.log($0) }) {
        self.label = label
        self.logLevel = logLevel
        self.detailed = detailed
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit = event.metadata { all.merge(explicit) { _, new in new } }
        let text = Self.line(level: event.level, message: "\(event.message)", label: label, metadata: all,
                             time: detailed ? Date() : nil)
        output(text + "\n")
    }

    /// One log line (without its newline). `time` nil: the terminal form, without timestamp,
    /// label and metadata.
    static func line(level: Logger.Level, message: String, label: String, metadata: Logger.Metadata, time: Date?) -> String {
        let prefix = level == .info || level == .notice ? "" : "\(level.rawValue): "
        guard let time else { return prefix + message }
        let context = ([label] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        return "\(timestamp(time)) [\(context)] \(prefix)\(message)"
    }

    /// `2026-03-04T10:15:02.123Z`: UTC, milliseconds (a calendar time, so `Date`).
    static func timestamp(_ time: Date) -> String {
        let since1970 = time.timeIntervalSince1970
        var seconds = time_t(since1970.rounded(.down))
        let millis = min(999, Int((since1970 - since1970.rounded(.down)) * 1000))
        var t = tm()
        gmtime_r(&seconds, &t)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(t.tm_year) + 1900, Int(t.tm_mon) + 1, Int(t.tm_mday),
                      Int(t.tm_hour), Int(t.tm_min), Int(t.tm_sec), millis)
    }

    /// Makes every `Logger(label:)` of this process write through this handler at `level`.
    /// Called once, by `Circuits.main`, before the command runs.
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, logLevel: level) }
    }
}

/// The progress line redrawn in place on a terminal (`ProgressDisplay`), kept below the log: a
/// log line written while it shows erases it, prints, and draws it again.
final class StatusLine: @unchecked Sendable {
    static let standardError = StatusLine()
    private let lock = NSLock()
    private var text: String?   // guarded by lock
    private static let erase = "\r\u{1b}[2K"

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// Draws `line` in place of the current one.
    func show(_ line: String) { lock.withLock { text = line; write(Self.erase + line) } }

    /// Erases the line, if one shows.
    func clear() { lock.withLock { if text != nil { text = nil; write(Self.erase) } } }

    /// Writes a log line (newline included) above the status line.
    func log(_ line: String) { lock.withLock { write(text.map { Self.erase + line + $0 } ?? line) } }
}
