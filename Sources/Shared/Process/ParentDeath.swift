import CProcess
import Foundation

/// Ties a local worker's life to the `circuits run` that started it: killed by SIGKILL, the run
/// cannot stop its workers itself, so each asks the kernel (prctl `PR_SET_PDEATHSIG`) to send it
/// SIGKILL when its parent dies (nothing can catch or delay it, and a worker has nothing to save:
/// a half-written shard is a hidden temporary file no one reads). As a second line, the worker
/// checks `parentIsGone` in its socket loop.
public enum ParentDeath {
    /// The environment variable through which `circuits run` passes its pid to its workers.
    public static let environmentKey = "CIRCUITS_PARENT_PID"

    /// In a worker started by `circuits run` (the variable is set): arranges SIGKILL on the
    /// parent's death, and exits at once if the parent is already gone (it died between fork
    /// and this call). Elsewhere does nothing.
    public static func followParent(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let parent = expectedParent(environment) else { return }
        _ = circuits_set_parent_death_signal(SIGKILL)
        if getppid() != parent { exit(0) }
    }

    /// True in a worker started by `circuits run` whose run has gone (it was re-parented).
    public static var parentIsGone: Bool {
        guard let parent = startedBy else { return false }
        return getppid() != parent
    }

    private static let startedBy = expectedParent(ProcessInfo.processInfo.environment)

    private static func expectedParent(_ environment: [String: String]) -> Int32? {
        environment[environmentKey].flatMap { Int32($0) }
    }
}
