import ArgumentParser
import Coordinator
import Foundation
import Shared

extension Circuits.Bench {
    struct Pipeline: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Throughput of a corpus run with 1 and 2 local workers, and the coordinator's overhead per task.",
            discussion: """
            Runs the job from scratch once per worker count, each into a fresh temporary output \
            folder, and reports wall time, prompts per second, and the seconds the coordinator spent \
            handling messages (task dispatch, sha256 and HDF5 verification of each shard, journal \
            fsync) per task. The last line is one JSON object with the same numbers.

            Example (release build):
              swift build -c release && .build/release/circuits bench pipeline jobs/demo.yaml
            """
        )

        @Argument(help: "The job spec (YAML); its output folder is not touched.")
        var job: String = "jobs/demo.yaml"

        @Option(help: "Worker counts to compare, comma-separated.")
        var workers: String = "1,2"

        @Option(help: "Attribution threads per worker (default: cores / workers).")
        var threads: Int?

        func run() throws {
            try reportingErrors {
                let counts = workers.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !counts.isEmpty, counts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--workers: a list like 1,2") }
                var rows: [[String: Any]] = []
                print("workers  prompts  tasks  wall_s  prompts/s  coordinator_ms/task  coordinator_share")
                for n in counts {
                    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-bench-pipeline-\(UUID().uuidString.prefix(8))")
                    defer { try? FileManager.default.removeItem(at: scratch) }
                    let spec = try JobCheck.load(job, out: scratch.path)
                    let o = try LocalRun.execute(spec, workers: n, threads: threads, display: nil)
                    let tasks = max(1, o.progress.tasksTotal)
                    let prompts = o.progress.promptsDone + o.progress.promptsFailed
                    let perTask = o.coordinatorSeconds / Double(tasks) * 1000
                    print(String(format: "%7d  %7d  %5d  %6.2f  %9.2f  %19.2f  %16.4f", n, prompts, tasks, o.wallSeconds,
                                 Double(prompts) / o.wallSeconds, perTask, o.coordinatorSeconds / o.wallSeconds))
                    rows.append(["workers": n, "prompts": prompts, "tasks": tasks, "wall_s": o.wallSeconds,
                                 "prompts_per_s": Double(prompts) / o.wallSeconds, "coordinator_ms_per_task": perTask,
                                 "coordinator_share": o.coordinatorSeconds / o.wallSeconds])
                }
                let json = try JSONSerialization.data(withJSONObject: ["job": job, "runs": rows, "cores": ProcessInfo.processInfo.activeProcessorCount], options: [.sortedKeys])
                print(String(decoding: json, as: UTF8.self))
            }
        }
    }
}
