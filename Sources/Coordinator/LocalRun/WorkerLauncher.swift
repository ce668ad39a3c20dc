import Foundation
import Logging
import Shared

/// A worker started by a local run: a process (`circuits worker`) or, in tests, a thread.
public protocol LocalWorker: AnyObject {
    /// False once the worker has exited.
    var isRunning: Bool { get }
    /// Exit status once stopped (0: finished cleanly).
    var terminationStatus: Int32 { get }
    /// Asks the worker to stop (SIGTERM for a process).
    func terminate()
    /// Stops the worker now (SIGKILL for a process).
    func kill()
}

/// Starts the workers of a local run. `slot` numbers the worker (0..<count); `id` is unique
/// across restarts; `log` is the file its output goes to.
public protocol WorkerLauncher {
    func start(slot: Int, id: String, endpoint: String, threads: Int, log: URL) throws -> LocalWorker
}

/// Starts `circuits worker --connect ENDPOINT` as a child process of this executable, its
/// standard output and error appended to the log file (not a terminal, so its lines carry
/// timestamps).
public struct ProcessWorkerLauncher: WorkerLauncher {
    /// The `circuits` executable (default: this process's own).
    public var executable: URL
    /// Passed on as `--log-level` (nil: the worker's default, info).
    public var logLevel: Logger.Level?

    public init(executable: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(), logLevel: Logger.Level? = nil) {
        self.executable = executable
        self.logLevel = logLevel
    }

    public func start(slot: Int, id: String, endpoint: String, threads: Int, log: URL) throws -> LocalWorker {
        let p = Process()
        p.executableURL = executable
        p.arguments = ["worker", "--connect", endpoint, "--threads", String(threads), "--id", id]
            + (logLevel.map { ["--log-level", $0.rawValue] } ?? [])
        // The worker stops when this process dies, even by SIGKILL (ParentDeath.followParent).
        var environment = ProcessInfo.processInfo.environment
        environment[ParentDeath.environmentKey] = String(getpid())
        p.environment = environment
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardError = handle
        p.standardOutput = handle
        try p.run()
        return WorkerProcess(process: p)
    }
}

/// A `circuits worker` child process.
final class WorkerProcess: LocalWorker {
    let process: Process
    init(process: Process) { self.process = process }
    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.terminationStatus }
    func terminate() { process.terminate() }
    func kill() { Foundation.kill(process.processIdentifier, SIGKILL) }
}
