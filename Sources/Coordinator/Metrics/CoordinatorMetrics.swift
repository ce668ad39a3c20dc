import Foundation
import Prometheus
import Storage

/// The coordinator's Prometheus metrics and health, shared between its ZeroMQ loop (the only
/// writer) and the HTTP threads of `MetricsServer` (readers).
///
/// Every family is registered when this is made, so the first scrape, before any worker has
/// joined, already lists them all (zeros where nothing happened yet). Gauges are set from a
/// `CoordinatorSnapshot` after every burst of messages that settled a task and once a second;
/// counters grow as their events happen. Each value is an atomic (swift-prometheus), the health
/// fields sit behind a lock held for a copy: a scrape never waits for the loop, nor the loop for
/// a scrape.
///
/// Families (`circuits_` prefix):
///
/// | name | type | what |
/// | --- | --- | --- |
/// | `circuits_tasks{state}` | gauge | tasks `pending` (queued or held back), `leased`, `done`, `failed` |
/// | `circuits_prompts{state}` | gauge | prompts `done` (traced) and `failed` (in completed or failed tasks, invalid corpus lines) |
/// | `circuits_job_prompts` | gauge | prompts in the job (the corpus) |
/// | `circuits_prompts_per_second` | gauge | prompts settled per second by this coordinator session |
/// | `circuits_workers_connected` | gauge | workers heard from within the job's `lease_seconds` |
/// | `circuits_lease_expiries_total` | counter | leases that expired (worker silent past `lease_seconds`) |
/// | `circuits_shard_bytes_received_total` | counter | bytes of the shards accepted |
/// | `circuits_coordinator_handling_seconds_total` | counter | time spent handling messages (dispatch, shard verification, journal fsync) |
/// | `circuits_coordinator_messages_total` | counter | messages handled |
public final class CoordinatorMetrics: Sendable {
    /// The registry `/metrics` emits (Prometheus text exposition format 0.0.4).
    public let registry = PrometheusCollectorRegistry()

    let tasksPending: Gauge, tasksLeased: Gauge, tasksDone: Gauge, tasksFailed: Gauge
    let promptsDone: Gauge, promptsFailed: Gauge, jobPrompts: Gauge, promptsPerSecond: Gauge
    let workersConnected: Gauge
    let leaseExpiries: Counter, shardBytes: Counter, handlingSeconds: Counter, messages: Counter
    private let healthState: LockedHealth

    /// Registers every family (values zero) for the job `jobHash`.
    public init(jobHash: String) {
        let tasks = "Tasks of the job by state: pending (queued or held back), leased, done, failed."
        tasksPending = registry.makeGauge(name: "circuits_tasks", labels: [("state", "pending")], help: tasks)
        tasksLeased = registry.makeGauge(name: "circuits_tasks", labels: [("state", "leased")], help: tasks)
        tasksDone = registry.makeGauge(name: "circuits_tasks", labels: [("state", "done")], help: tasks)
        tasksFailed = registry.makeGauge(name: "circuits_tasks", labels: [("state", "failed")], help: tasks)
        let prompts = "Prompts of the job settled: done (traced) or failed (with a reason in the report)."
        promptsDone = registry.makeGauge(name: "circuits_prompts", labels: [("state", "done")], help: prompts)
        promptsFailed = registry.makeGauge(name: "circuits_prompts", labels: [("state", "failed")], help: prompts)
        jobPrompts = registry.makeGauge(name: "circuits_job_prompts", help: "Prompts in the job's corpus.")
        promptsPerSecond = registry.makeGauge(name: "circuits_prompts_per_second",
                                              help: "Prompts settled per second by this coordinator session.")
        workersConnected = registry.makeGauge(name: "circuits_workers_connected",
                                              help: "Workers heard from within the job's lease_seconds.")
        leaseExpiries = registry.makeCounter(name: "circuits_lease_expiries_total",
                                             help: "Leases that expired: the worker was silent past lease_seconds.")
        shardBytes = registry.makeCounter(name: "circuits_shard_bytes_received_total", help: "Bytes of the shards accepted.")
        handlingSeconds = registry.makeCounter(name: "circuits_coordinator_handling_seconds_total",
                                               help: "Seconds the coordinator spent handling messages (dispatch, shard verification, journal fsync).")
        messages = registry.makeCounter(name: "circuits_coordinator_messages_total", help: "Messages the coordinator handled.")
        healthState = LockedHealth(Health(job: String(jobHash.prefix(12))))
    }

    /// Sets the gauges and the health fields from the loop's state.
    public func record(_ s: CoordinatorSnapshot) {
        tasksPending.set(Double(s.tasksPending))
        tasksLeased.set(Double(s.tasksLeased))
        tasksDone.set(Double(s.tasksDone))
        tasksFailed.set(Double(s.tasksFailed))
        promptsDone.set(Double(s.promptsDone))
        promptsFailed.set(Double(s.promptsFailed))
        jobPrompts.set(Double(s.promptsTotal))
        promptsPerSecond.set(s.promptsPerSecond)
        workersConnected.set(Double(s.workersConnected))
        healthState.update { h in
            h.snapshot = s
            h.lastRecord = ContinuousClock.now
        }
    }

    /// `n` leases expired.
    public func leasesExpired(_ n: Int) { if n > 0 { leaseExpiries.increment(by: Int64(n)) } }

    /// A shard of `bytes` bytes was accepted.
    public func shardAccepted(bytes: Int) { shardBytes.increment(by: Int64(max(0, bytes))) }

    /// A burst of `count` messages took `time` to handle (its journal fsync included).
    public func handled(_ count: Int, in time: Duration) {
        if count > 0 { messages.increment(by: Int64(count)) }
        if time > .zero { handlingSeconds.increment(by: time.seconds) }
    }

    /// The stage the coordinator is in, shown by `/health`.
    public func enter(_ phase: Phase) { healthState.update { $0.phase = phase } }

    /// What the coordinator is doing.
    public enum Phase: String, Sendable {
        /// Preparing: replaying the journal, re-hashing the accepted shards, binding.
        case starting
        /// Handing out tasks and accepting shards.
        case serving
        /// Planning the bridge swaps of the evaluation's second phase (sums the label statistics of every shard).
        case planning
        /// Every task is settled; merging the shards and writing the report.
        case merging
        /// Done: the report is written (or merging was skipped).
        case finished
    }

    /// Seconds without a state update from the serving loop after which `/health` says `stalled`.
    public static let stallSeconds = 60.0

    /// The `/health` answer: HTTP status and its JSON body. 200 unless the loop, while serving,
    /// has not updated the metrics for `stallSeconds` (it does so at least once a second), then 503.
    ///
    ///     {"status":"ok","phase":"serving","job":"38b3934ce7ba","tasks_total":37,"tasks_settled":12,
    ///      "prompts_total":291,"prompts_settled":96,"workers_connected":2,"seconds_since_update":0.4}
    public func health(now: ContinuousClock.Instant = .now) -> (status: Int, json: String) {
        let h = healthState.copy()
        let age = (now - h.lastRecord).seconds
        let stalled = h.phase == .serving && age > Self.stallSeconds
        let s = h.snapshot
        let body = """
            {"status":"\(stalled ? "stalled" : "ok")","phase":"\(h.phase.rawValue)","job":"\(h.job)",\
            "tasks_total":\(s.tasksTotal),"tasks_settled":\(s.tasksDone + s.tasksFailed),\
            "prompts_total":\(s.promptsTotal),"prompts_settled":\(s.promptsDone + s.promptsFailed),\
            "workers_connected":\(s.workersConnected),"seconds_since_update":\(String(format: "%.3f", age))}
            """
        return (stalled ? 503 : 200, body)
    }

    struct Health {
        var job: String
        var phase = Phase.starting
        var snapshot = CoordinatorSnapshot()
        var lastRecord = ContinuousClock.now
    }

    /// The health fields behind a lock (held for a copy or an assignment, never across I/O).
    final class LockedHealth: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Health
        init(_ value: Health) { self.value = value }
        func copy() -> Health { lock.lock(); defer { lock.unlock() }; return value }
        func update(_ change: (inout Health) -> Void) { lock.lock(); change(&value); lock.unlock() }
    }
}

/// The coordinator's state as the metrics show it (`CoordinatorServer.snapshot`).
public struct CoordinatorSnapshot: Sendable, Equatable {
    public var tasksPending = 0, tasksLeased = 0, tasksDone = 0, tasksFailed = 0
    public var promptsTotal = 0, promptsDone = 0, promptsFailed = 0
    public var promptsPerSecond = 0.0
    public var workersConnected = 0

    public var tasksTotal: Int { tasksPending + tasksLeased + tasksDone + tasksFailed }

    public init() {}
}
