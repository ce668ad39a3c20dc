import Foundation
import Shared
import Storage

/// One fact of a facts file (`models/demo/facts.json`): a two-hop prompt, its subject, bridge
/// (`intermediate`) and answer, and the family of facts it belongs to.
public struct Fact: Codable, Sendable, Equatable {
    public var id: String
    public var prompt: String
    public var subject: String
    public var intermediate: String
    public var answer: String
    public var family: String

    public init(id: String, prompt: String, subject: String, intermediate: String, answer: String, family: String) {
        self.id = id; self.prompt = prompt; self.subject = subject; self.intermediate = intermediate; self.answer = answer; self.family = family
    }

    /// Reads a facts file (a JSON list of facts).
    /// - Throws: `MergeError` naming the file.
    public static func load(_ url: URL) throws -> [Fact] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw MergeError(path: url.path, reason: "cannot read the facts file") }
        do { return try JSONDecoder().decode([Fact].self, from: data) } catch {
            throw MergeError(path: url.path, reason: "not a facts file (a JSON list of {id, prompt, subject, intermediate, answer, family}): \(error)")
        }
    }
}

/// The evaluation's second phase: one bridge swap per two-hop prompt of the corpus (a prompt
/// whose id is a fact's), cut into tasks of `prompts_per_task`. Planned by the coordinator once
/// every attribution task is settled, from the merged label statistics and the facts alone (never
/// from a paired prompt), and saved as `OUT/bridge_swap_plan.json` so that a restarted
/// coordinator and `merge` see the same tasks.
///
/// For a prompt whose bridge label is X (its corpus label, else its fact's `intermediate`):
/// Y is the next distinct `intermediate` of the same `family` in the facts' order, wrapping
/// around; X's features are `LabelStatistics.responding(to: X)`; Y's are
/// `responding(to: Y)`, each set to its mean activation over Y's prompts where active
/// (`sumMaxActivation / activePrompts`); Y's answer is the `answer` of the facts whose
/// `intermediate` is Y in that family. Prompts of a family with one bridge are left out.
public struct BridgeSwapPlan: Codable, Sendable, Equatable {
    public struct Task: Codable, Sendable, Equatable {
        public var prompts: [PromptItem]
        public var swaps: [BridgeSwapItem]
    }
    public var tasks: [Task]

    public var swapCount: Int { tasks.reduce(0) { $0 + $1.swaps.count } }

    public init(tasks: [Task]) { self.tasks = tasks }

    /// Plans the swaps of `prompts` (corpus order).
    public init(facts: [Fact], prompts: [PromptItem], labels: LabelStatistics, promptsPerTask: Int) {
        var factOf: [String: Fact] = [:]
        var bridges: [String: [String]] = [:]     // family → distinct intermediates, facts order
        for f in facts {
            if factOf[f.id] == nil { factOf[f.id] = f }
            if !(bridges[f.family] ?? []).contains(f.intermediate) { bridges[f.family, default: []].append(f.intermediate) }
        }
        func targetFeatures(_ label: String) -> (ids: [[Int]], values: [Double]) {
            let table = labels.entries[label] ?? [:]
            let ids = labels.responding(to: label).filter { (table[$0]?.activePrompts ?? 0) > 0 }
            return (ids.map { [$0.layer, $0.feature] }, ids.map { table[$0]!.sumMaxActivation / Double(table[$0]!.activePrompts) })
        }
        var items: [(PromptItem, BridgeSwapItem)] = []
        for p in prompts {
            guard let fact = factOf[p.id], let family = bridges[fact.family], family.count >= 2 else { continue }
            let x = p.label ?? fact.intermediate
            guard let i = family.firstIndex(of: x) else { continue }
            let y = family[(i + 1) % family.count]
            guard let targetAnswer = facts.first(where: { $0.intermediate == y && $0.family == fact.family })?.answer else { continue }
            let target = targetFeatures(y)
            items.append((p, BridgeSwapItem(id: p.id, bridge: x, target: y, answer: fact.answer, targetAnswer: targetAnswer,
                                            bridgeFeatures: labels.responding(to: x).map { [$0.layer, $0.feature] },
                                            targetFeatures: target.ids, targetValues: target.values)))
        }
        let k = max(1, promptsPerTask)
        tasks = stride(from: 0, to: items.count, by: k).map { start in
            let chunk = items[start..<min(start + k, items.count)]
            return Task(prompts: chunk.map(\.0), swaps: chunk.map(\.1))
        }
    }

    /// The plan saved in `layout`, or nil when there is none.
    public static func load(_ layout: RunLayout) throws -> BridgeSwapPlan? {
        guard let data = FileManager.default.contents(atPath: layout.bridgeSwapPlan.path) else { return nil }
        do { return try JSONDecoder().decode(BridgeSwapPlan.self, from: data) } catch {
            throw MergeError(path: layout.bridgeSwapPlan.path, reason: "unreadable bridge-swap plan: \(error)")
        }
    }

    public func save(_ layout: RunLayout) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: layout.bridgeSwapPlan)
    }

    /// The plan of a run whose attribution phase is settled: the label statistics of every
    /// accepted attribution shard, summed in task order, and the job's facts.
    public static func make(job: JobSpec, plan: TaskPlan, layout: RunLayout, facts path: String) throws -> BridgeSwapPlan {
        var labels = LabelStatistics()
        for task in plan.tasks.indices {
            let url = layout.shard(taskID: task)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let f = try HDF5File.open(url)
            defer { f.close() }
            if let l = try LabelStatistics.read(f) { labels.add(l) }
        }
        return BridgeSwapPlan(facts: try Fact.load(URL(fileURLWithPath: path)), prompts: plan.tasks.flatMap { $0 },
                              labels: labels, promptsPerTask: job.promptsPerTask)
    }
}

extension RunLayout {
    /// The bridge-swap tasks of the evaluation's second phase (`BridgeSwapPlan`).
    public var bridgeSwapPlan: URL { root.appendingPathComponent("bridge_swap_plan.json") }
}
