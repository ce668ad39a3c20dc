import CProcess
import Foundation

/// Ties a local worker's life to the `circuits run` that started it: killed by SIGKILL, the run
/// cannot stop its workers itself, so each asks the kernel (prctl `PR_SET_PDEATHSIG`) to send it
/// SIGTERM when its parent dies.
public enum ParentDeath {
    /// The environment variable through which `circuits run` passes its pid to its workers.
    public static let environmentKey = "CIRCUITS_PARENT_PID"

    /// In a worker started by `circuits run` (the variable is set): arranges SIGTERM on the
    /// parent's death, and exits at once if the parent is already gone (it died between fork
    /// and this call). Elsewhere does nothing.
    public static func followParent(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let raw = environment[environmentKey], let parent = Int32(raw) else { return }
        _ = circuits_set_parent_death_signal(SIGTERM)
        if getppid() != parent { exit(0) }
    }
}
