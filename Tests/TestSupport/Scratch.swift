import Foundation

/// A fresh temporary folder for one test, removed by `remove()` (or left for inspection when
/// `CIRCUITS_KEEP_SCRATCH` is set).
public struct ScratchFolder: Sendable {
    public let url: URL
    public init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    public func remove() {
        if ProcessInfo.processInfo.environment["CIRCUITS_KEEP_SCRATCH"] == nil { try? FileManager.default.removeItem(at: url) }
    }
}

/// The `circuits` executable built beside the test bundle (`swift test` builds it).
public let circuitsExecutable: URL = {
    var dir = Bundle.main.bundleURL
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("circuits")
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), !isDir.boolValue { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return repositoryRoot.appendingPathComponent(".build/debug/circuits")
}()

/// A `circuits` process started by a test, its stdout and stderr captured to files.
public final class CircuitsProcess: @unchecked Sendable {
    public let process = Process()
    public let stdoutURL: URL
    public let stderrURL: URL

    public init(_ arguments: [String], logs: URL, name: String) throws {
        stdoutURL = logs.appendingPathComponent("\(name).out")
        stderrURL = logs.appendingPathComponent("\(name).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = circuitsExecutable
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.currentDirectoryURL = logs
        try process.run()
    }

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits up to `seconds`; kills the process and returns nil on timeout.
    @discardableResult
    public func wait(seconds: Double = 120) -> Int32? {
        let until = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < until { usleep(20_000) }
        if process.isRunning { kill(SIGKILL); process.waitUntilExit(); return nil }
        return process.terminationStatus
    }

    public func kill(_ signal: Int32) { Foundation.kill(process.processIdentifier, signal) }

    /// Runs `circuits arguments` to completion.
    public static func run(_ arguments: [String], in folder: URL, seconds: Double = 180) throws -> (status: Int32?, stdout: String, stderr: String) {
        let p = try CircuitsProcess(arguments, logs: folder, name: "cmd-\(UUID().uuidString.prefix(6))")
        let status = p.wait(seconds: seconds)
        return (status, p.stdout, p.stderr)
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
public func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
    let until = Date().addingTimeInterval(seconds)
    while Date() < until {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
