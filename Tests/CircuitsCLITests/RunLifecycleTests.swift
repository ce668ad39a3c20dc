// `circuits run` and the lives of its local worker processes.
import Foundation
import Testing
import TestSupport

@Suite struct RunLifecycleTests {
    /// Pids of the running processes whose command line holds `fragment` (read from /proc).
    static func processes(containing fragment: String) -> [Int32] {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
        return pids.filter { pid in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            // A zombie has an empty command line; it is gone for our purpose.
            return args.contains(fragment)
        }
    }

    /// SIGKILL of `circuits run` (no chance to stop its workers) takes its workers with it.
    @Test func workersDieWithAKilledRun() throws {
        let job = try TestJob("run-sigkill", prompts: Array(repeating: CorpusRunTests.prompts, count: 20).flatMap { $0 }, promptsPerTask: 2)
        defer { job.folder.remove() }
        let run = try CircuitsProcess(["run", job.spec.path, "--workers", "2", "--threads", "1"], logs: job.folder.url, name: "run")
        let marker = "-\(run.process.processIdentifier)-"   // worker ids are local<slot>-<run pid>-<restart>
        #expect(eventually(seconds: 60) { Self.processes(containing: marker).count == 2 }, "both workers started: \(run.stderr)")
        run.kill(SIGKILL)
        run.wait()
        #expect(eventually(seconds: 15) { Self.processes(containing: marker).isEmpty },
                "workers still running 15 s after their run was killed: \(Self.processes(containing: marker))")
        for pid in Self.processes(containing: marker) { kill(pid, SIGKILL) }
    }
}
