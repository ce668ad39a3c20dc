import Foundation
import Storage

/// A snapshot of a run, for progress displays and the end-of-run summary.
public struct RunProgress: Sendable, Equatable {
    public var tasksTotal: Int
    public var tasksCompleted: Int
    public var tasksFailed: Int
    public var promptsTotal: Int
    /// Traced prompts in completed tasks.
    public var promptsDone: Int
    /// Failed prompts: in completed tasks, in failed tasks, and invalid corpus lines.
    public var promptsFailed: Int
    /// Prompts settled by this coordinator session (not by an earlier one), and its age
    /// (`ContinuousClock`, so a wall-clock step cannot skew the rate).
    public var promptsThisSession: Int
    public var elapsed: Duration
    public var workers: Int

    public init(tasksTotal: Int, tasksCompleted: Int, tasksFailed: Int, promptsTotal: Int, promptsDone: Int,
                promptsFailed: Int, promptsThisSession: Int, elapsed: Duration, workers: Int) {
        self.tasksTotal = tasksTotal; self.tasksCompleted = tasksCompleted; self.tasksFailed = tasksFailed
        self.promptsTotal = promptsTotal; self.promptsDone = promptsDone; self.promptsFailed = promptsFailed
        self.promptsThisSession = promptsThisSession; self.elapsed = elapsed; self.workers = workers
    }

    /// Seconds since this coordinator session started.
    public var seconds: Double { elapsed.seconds }
    /// Prompts per second in this session.
    public var rate: Double { seconds > 0 ? Double(promptsThisSession) / seconds : 0 }
    /// Time left at the current rate; nil before the first prompt.
    public var eta: Duration? {
        let left = promptsTotal - promptsDone - promptsFailed
        return rate > 0 ? .seconds(Double(left) / rate) : nil
    }

    /// `37/120 prompts (2 failed) · 1.8 prompts/s · ETA 46 s · 2 workers`
    public var line: String {
        var s = "\(promptsDone + promptsFailed)/\(promptsTotal) prompts"
        if promptsFailed > 0 { s += " (\(promptsFailed) failed)" }
        s += String(format: " · %.2f prompts/s", rate)
        if let eta { s += " · ETA " + Self.duration(eta.seconds) }
        s += " · \(workers) worker" + (workers == 1 ? "" : "s")
        return s
    }

    static func duration(_ s: Double) -> String {
        if s < 90 { return "\(Int(s.rounded())) s" }
        if s < 5400 { return "\(Int((s / 60).rounded())) min" }
        return String(format: "%.1f h", s / 3600)
    }
}
