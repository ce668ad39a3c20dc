// A task's dashboard columns (TaskDashboards: bucketed entries, top-k buffers entered past a
// threshold, per-bin sample buffers, windows written once) against a naive builder written
// here: every entry made an example with its window, each feature's list sorted whole. Random
// tasks with many ties (activations on a coarse grid, ±0, negatives), prompts without entries,
// features far past the top-k, over a table of parameters; the columns must be equal, field by
// field and in order (what a shard's `/dashboards` holds).
import Foundation
import Storage
import Testing

@Suite struct TaskDashboardsTests {
    static let nLayers = 2, dT = 24

    /// `n` prompts of 1…20 tokens over 30 token ids; features 0 and 5 active at most positions, the
    /// others rarely; activations on a 1/4 grid from −1 to 3 (ties everywhere, zeros of both signs),
    /// with some tiny and huge ones (under- and overflow bins).
    static func prompts(_ n: Int, seed: UInt64) -> [TaskDashboards.Prompt] {
        var rng = SplitMix(seed: seed)
        return (0..<n).map { k in
            let nPos = Int.random(in: 1...20, using: &rng)
            let tokens = (0..<nPos).map { _ in Int32.random(in: 0..<30, using: &rng) }
            var features: [Int32] = [], positions: [Int32] = [], values: [Float] = []
            for l in 0..<nLayers {
                for p in 1..<max(1, nPos) {
                    for f in 0..<dT where f == 0 || f == 5 && p % 3 != 0 || Int.random(in: 0..<6, using: &rng) == 0 {
                        let v: Float = switch Int.random(in: 0..<12, using: &rng) {
                        case 0: -0.0
                        case 1: Float.random(in: 1e-6...1e-4, using: &rng)
                        case 2: 4096
                        default: Float(Int.random(in: -4...12, using: &rng)) / 4
                        }
                        features.append(Int32(l * dT + f)); positions.append(Int32(p)); values.append(v)
                    }
                }
            }
            return TaskDashboards.Prompt(ordinal: Int64(3 * k + 1), tokens: tokens, strings: tokens.map { "t\($0)" },
                                         features: features, positions: positions, values: values)
        }
    }

    /// The columns the obvious way.
    static func naive(_ prompts: [TaskDashboards.Prompt], parameters p: DashboardParameters) -> DashboardColumns {
        let F = nLayers * dT, B = ActivationHistogram.binCount
        var c = DashboardColumns(nLayers: nLayers, dTranscoder: dT, parameters: p)
        var byFeature = [[DashboardExample]](repeating: [], count: F)
        for prompt in prompts {
            var dense: [Int: [Int: Float]] = [:]   // feature → position → activation
            for i in prompt.features.indices { dense[Int(prompt.features[i]), default: [:]][Int(prompt.positions[i])] = prompt.values[i] }
            for i in prompt.features.indices {
                let g = Int(prompt.features[i]), pos = Int(prompt.positions[i])
                let first = max(0, pos - p.windowBefore), last = min(prompt.tokens.count - 1, pos + p.windowAfter)
                byFeature[g].append(DashboardExample(
                    activation: prompt.values[i], prompt: prompt.ordinal, position: Int32(pos),
                    key: DashboardExample.sampleKey(prompt: prompt.ordinal, position: pos, feature: g), windowStart: Int32(first),
                    tokens: Array(prompt.tokens[first...last]), activations: (first...last).map { dense[g]![$0] ?? 0 }))
            }
        }
        func append(_ g: Int, _ group: Int, _ e: DashboardExample, key: UInt64) {
            c.exampleFeature.append(Int64(g)); c.exampleGroup.append(Int32(group)); c.exampleActivation.append(e.activation)
            c.examplePrompt.append(e.prompt); c.examplePosition.append(e.position); c.exampleKey.append(Int64(bitPattern: key))
            c.windowStart.append(e.windowStart); c.windowToken += e.tokens; c.windowActivation += e.activations
            c.windowOffset.append(Int64(c.windowToken.count))
            for t in e.tokens { c.vocabulary[t] = "t\(t)" }
        }
        for g in 0..<F where !byFeature[g].isEmpty {
            let list = byFeature[g]
            c.seenFeature.append(Int64(g))
            c.maxActivation.append(max(list.map(\.activation).reduce(-Float.infinity) { $1 > $0 ? $1 : $0 }, 0))
            for b in 0..<B {
                let n = list.filter { ActivationHistogram.bin($0.activation) == b }.count
                if n > 0 { c.histogramIndex.append(Int64(g * B + b)); c.histogramCount.append(Int64(n)) }
            }
            for e in list.sorted(by: DashboardExample.ranksAbove).prefix(p.topK) { append(g, -1, e, key: 0) }
            for b in 0..<B {
                for e in list.filter({ ActivationHistogram.bin($0.activation) == b }).sorted(by: DashboardExample.samplesBefore).prefix(p.samplesPerBin) {
                    append(g, b, e, key: e.key)
                }
            }
        }
        return c
    }

    static let parameterTable: [DashboardParameters] = [
        DashboardParameters(),
        DashboardParameters(topK: 1, samplesPerBin: 1, windowBefore: 0, windowAfter: 0),
        DashboardParameters(topK: 3, samplesPerBin: 3, windowBefore: 2, windowAfter: 5),
        DashboardParameters(topK: 0, samplesPerBin: 2, windowBefore: 7, windowAfter: 2),
        DashboardParameters(topK: 5, samplesPerBin: 0, windowBefore: 30, windowAfter: 30),
    ]

    @Test(arguments: parameterTable, [UInt64(1), 2, 3])
    func columnsEqualNaive(parameters: DashboardParameters, seed: UInt64) {
        let prompts = Self.prompts(12, seed: seed)
        let built = TaskDashboards.build(prompts, nLayers: Self.nLayers, dTranscoder: Self.dT, parameters: parameters)
        let naive = Self.naive(prompts, parameters: parameters)
        #expect(built.seenFeature == naive.seenFeature && built.maxActivation == naive.maxActivation)
        #expect(built.histogramIndex == naive.histogramIndex && built.histogramCount == naive.histogramCount)
        #expect(built.exampleFeature == naive.exampleFeature && built.exampleGroup == naive.exampleGroup)
        #expect(built.exampleActivation.map(\.bitPattern) == naive.exampleActivation.map(\.bitPattern), "the same zeros too")
        #expect(built.examplePrompt == naive.examplePrompt && built.examplePosition == naive.examplePosition)
        #expect(built.exampleKey == naive.exampleKey && built.windowStart == naive.windowStart)
        #expect(built.windowOffset == naive.windowOffset && built.windowToken == naive.windowToken)
        #expect(built.windowActivation.map(\.bitPattern) == naive.windowActivation.map(\.bitPattern))
        #expect(built.vocabulary == naive.vocabulary)
        #expect(built == naive)
        // The table exercises what it claims: full top-k lists and ties among the kept examples.
        if parameters.topK >= 3 {
            #expect(built.exampleFeature.filter { $0 == 0 }.count >= parameters.topK, "feature 0 fills its top-k")
            #expect(zip(built.exampleActivation, built.exampleActivation.dropFirst()).contains { $0 == $1 }, "ties kept")
        }
    }

    @Test func emptyTaskAndPromptsWithoutEntries() {
        let p = DashboardParameters()
        let none = TaskDashboards.build([], nLayers: Self.nLayers, dTranscoder: Self.dT, parameters: p)
        #expect(none == DashboardColumns(nLayers: Self.nLayers, dTranscoder: Self.dT, parameters: p))
        let bosOnly = [TaskDashboards.Prompt(ordinal: 0, tokens: [7], strings: ["t7"], features: [], positions: [], values: [])]
        #expect(TaskDashboards.build(bosOnly, nLayers: Self.nLayers, dTranscoder: Self.dT, parameters: p) == Self.naive(bosOnly, parameters: p))
    }
}
