import Foundation
import Logging
import Testing
@testable import Coordinator

/// The coordinator under many concurrent workers (the benchmark's simulated ones: real ZeroMQ
/// clients, real shards): every task completed exactly once, by the journal.
@Suite struct CoordinatorBenchmarkTests {
    @Test func manyWorkersLoseAndDuplicateNothing() throws {
        var bench = CoordinatorBenchmark()
        bench.workers = 60
        bench.tasks = 400
        bench.promptsPerTask = 2
        bench.replayTasks = 3000
        bench.timeoutSeconds = 120
        let r = try bench.run(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(r.lost == 0 && r.duplicated == 0, "\(r.lost) lost, \(r.duplicated) duplicated")
        #expect(r.tasks == 400 && r.prompts == 800)
        #expect(r.tasks_per_s > 0 && r.coordinator_ms_per_task > 0)
        // Coordinator time per task is the loop's plus the checks' (as `circuits bench pipeline` counts it).
        #expect(abs(r.coordinator_ms_per_task - (r.loop_ms_per_task + r.verify_ms_per_task)) < 1e-9)
        // Shards were checked on the verifier threads; CPU counted for the loop, the verifiers and the workers' threads.
        #expect(r.verify_ms_per_task > 0 && r.verify_cpu_ms_per_task > 0 && r.loop_cpu_ms_per_task > 0 && r.workers_cpu_ms_per_task > 0)
        #expect(abs(r.coordinator_cpu_ms_per_task - (r.loop_cpu_ms_per_task + r.verify_cpu_ms_per_task)) < 1e-9)
        #expect(!r.workers_in_child_process && r.verifier_threads >= 1)
        #expect(r.p50_ms <= r.p99_ms)
        #expect(r.journal_bytes > 400 * 100)
        #expect(r.replay_s > 0)
        #expect(r.metrics_scrapes == 0)
    }

    /// With metrics served and scraped 50 times a second: nothing lost or duplicated, and
    /// scrapes answered during the run (no more than the rate allows).
    @Test func scrapingTheMetricsDuringARunLosesNothing() throws {
        var bench = CoordinatorBenchmark()
        bench.workers = 20
        bench.tasks = 200
        bench.replayTasks = 10
        bench.timeoutSeconds = 120
        bench.metricsScrapesPerSecond = 50
        let r = try bench.run(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(r.lost == 0 && r.duplicated == 0, "\(r.lost) lost, \(r.duplicated) duplicated")
        #expect(r.metrics_scrapes >= 1 && Double(r.metrics_scrapes) <= 50 * r.wall_s + 2, "\(r.metrics_scrapes) in \(r.wall_s) s")
        #expect(r.metrics_scrape_max_ms > 0)
    }
}
