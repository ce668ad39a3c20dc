import Foundation
import Testing
import TestSupport

/// `circuits bench coordinator` with its simulated workers in a child process (`circuits bench
/// simulated-workers`): every task completed once, and the coordinator's CPU time apart from the
/// workers'.
@Suite struct CoordinatorBenchCommandTests {
    @Test func workersInAChildProcessLoseNothing() throws {
        let folder = try ScratchFolder("bench-coordinator")
        defer { folder.remove() }
        let out = try CircuitsProcess.run(["bench", "coordinator", "--workers", "30", "--tasks", "300", "--replay-tasks", "100",
                                           "--verifier-threads", "2"], in: folder.url, seconds: 180)
        #expect(out.status == 0, "\(out.stderr)")
        let last = try #require(out.stdout.split(separator: "\n").last.map { Data($0.utf8) })
        let r = try #require(try JSONSerialization.jsonObject(with: last) as? [String: Any], "\(out.stdout)")
        #expect(r["lost"] as? Int == 0 && r["duplicated"] as? Int == 0, "\(r)")
        #expect(r["tasks"] as? Int == 300 && r["workers"] as? Int == 30 && r["verifier_threads"] as? Int == 2)
        #expect(r["workers_in_child_process"] as? Bool == true)
        for key in ["coordinator_ms_per_task", "loop_ms_per_task", "verify_ms_per_task", "coordinator_cpu_ms_per_task", "loop_cpu_ms_per_task",
                    "verify_cpu_ms_per_task", "workers_cpu_ms_per_task", "tasks_per_s"] {
            #expect((r[key] as? Double ?? 0) > 0, "\(key): \(r[key] ?? "missing")")
        }
        // The process's CPU holds the loop's and the verifiers' (and ZeroMQ's and the journal's threads).
        let process = r["coordinator_cpu_ms_per_task"] as? Double ?? 0
        let parts = (r["loop_cpu_ms_per_task"] as? Double ?? 0) + (r["verify_cpu_ms_per_task"] as? Double ?? 0)
        #expect(process >= parts * 0.99, "process \(process) ms, loop + verifiers \(parts) ms")
    }
}
