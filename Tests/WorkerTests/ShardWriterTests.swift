// A task's shard holds exactly what the engine computed: pruned nodes and edges, scores,
// failed prompts with reasons, feature statistics, the graph JSON; written atomically.
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer
import Worker

@Suite struct ShardWriterTests {
    @Test func shardHoldsThePrunedGraphsStatisticsAndFailures() throws {
        let folder = try ScratchFolder("shard")
        defer { folder.remove() }
        let job = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path,
                          corpus: "/unused", output: folder.url.path)
        let runner = try TaskRunner(job: job, workerID: "test", threads: 1)
        let prompts = [PromptItem(id: "a", text: "the cat sat on the mat because it was very tired"),
                       PromptItem(id: "b/odd id", text: InterimModel.tooLongPrompt),
                       PromptItem(id: "c", text: "a big dog ran to the river")]
        let url = folder.file("task-000000.h5")
        let result = try runner.run(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: prompts), to: url)
        #expect(result.promptsDone == 2 && result.promptsFailed == 1)
        #expect(result.sha256 == (try SHA256Digest.hex(ofFileAt: url)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["task-000000.h5"], "no temporary file left")

        let f = try HDF5File.open(url)
        defer { f.close() }
        #expect(try f.stringAttribute("job_hash", at: "meta") == job.hash)
        #expect(try f.readStrings(at: "prompts/id") == ["a", "b/odd id", "c"])
        #expect(try f.read(Int8.self, at: "prompts/status").values == [1, 0, 1])
        #expect(try f.readStrings(at: "prompts/reason")[1].contains("context"))

        var active = [Int64](repeating: 0, count: 4 * runner.session.replacement.transcoders.dTranscoder)
        var sums = [Double](repeating: 0, count: active.count)
        var tokens: Int64 = 0
        for (k, prompt) in prompts.enumerated() where k != 1 {
            // The same trace again, checked against the shard's tables (float values to round-off:
            // tests run in parallel and share the process's BLAS thread setting).
            let r = try runner.session.trace(prompt: prompt.text, options: runner.options, nodeThreshold: 0.8, edgeThreshold: 0.98)
            let g = ShardSchema.graphGroupName(index: k)
            #expect(try f.stringAttribute("id", at: g) == prompt.id)
            let n = r.graph.layout.count
            let index = try f.read(Int64.self, at: "\(g)/node_index").values.map(Int.init)
            #expect(index == (0..<n).filter { r.pruning.nodeMask[$0] })
            let influence = closeness(try f.read(Float.self, at: "\(g)/node_influence").values, index.map { r.pruning.nodeInfluence[$0] },
                                      absScale: 1e-6, rel: 1e-4)
            #expect(influence.ok, "\(influence)")
            let src = try f.read(Int32.self, at: "\(g)/edge_source").values, dst = try f.read(Int32.self, at: "\(g)/edge_target").values
            let w = try f.read(Float.self, at: "\(g)/edge_weight").values
            #expect(src.count == r.prunedEdgeCount)
            for e in src.indices {
                let t = index[Int(dst[e])], s = index[Int(src[e])]
                #expect(r.pruning.edgeMask[t, s] && abs(w[e] - r.graph.adjacency[t, s]) <= 1e-5 * max(1, abs(w[e])))
            }
            #expect(abs(try f.attribute("replacement_score", as: Double.self, at: g) - r.scores.replacement) <= 1e-6)
            let json = try FrontendGraph.decode(Data(try f.read(UInt8.self, at: "\(g)/frontend_json").values))
            #expect(json.metadata.slug == graphSlug(promptID: prompt.id) && json.links.count == r.prunedEdgeCount)
            tokens += Int64(r.graph.inputTokens.count - 1)
            for (a, v) in zip(r.graph.activeFeatures, r.graph.activationValues) {
                active[a.layer * runner.session.replacement.transcoders.dTranscoder + a.index] += 1
                sums[a.layer * runner.session.replacement.transcoders.dTranscoder + a.index] += Double(v)
            }
        }
        #expect(try f.read(Int64.self, at: "stats/features/active_count").values == active)
        for (stored, sum) in zip(try f.read(Double.self, at: "stats/features/sum_activation").values, sums) {
            #expect(abs(stored - sum) <= 1e-5 * max(1, abs(sum)))
        }
        #expect(try f.attribute("tokens_seen", as: Int64.self, at: "stats/features") == tokens)
        #expect(!f.exists("graphs/000001"), "no graph for the failed prompt")
    }

    /// With `pruning.keep_full_graphs`, each graph group holds the unpruned graph beside the
    /// pruned one, and it reads back to the traced adjacency (every entry, zeros included; a
    /// second trace, equal to round-off); without it, shards hold no `full` group.
    @Test(arguments: [true, false])
    func fullGraphsRoundTripWhenKept(keep: Bool) throws {
        let folder = try ScratchFolder("shard-full")
        defer { folder.remove() }
        var job = JobSpec(model: InterimModel.model.path, transcoders: InterimModel.transcoders.path,
                          corpus: "/unused", output: folder.url.path)
        job.keepFullGraphs = keep
        let runner = try TaskRunner(job: job, workerID: "test", threads: 1)
        let prompts = [PromptItem(id: "a", text: "the cat sat on the mat because it was very tired"),
                       PromptItem(id: "b", text: InterimModel.tooLongPrompt),
                       PromptItem(id: "c", text: "a big dog ran to the river")]
        let url = folder.file("task-000000.h5")
        _ = try runner.run(TaskAssignment(taskID: 0, attempt: 1, jobHash: job.hash, prompts: prompts), to: url)
        let f = try HDF5File.open(url)
        defer { f.close() }
        #expect(!FullGraph.exists(in: f, index: 1), "no graph for the failed prompt")
        for k in [0, 2] {
            #expect(FullGraph.exists(in: f, index: k) == keep)
            guard keep else { continue }
            let r = try runner.session.trace(prompt: prompts[k].text, options: runner.options, nodeThreshold: 0.8, edgeThreshold: 0.98)
            let full = try FullGraph(f, index: k)
            #expect(full.nNodes == r.graph.layout.count && full.nEdges == r.edgeCount)
            let g = try AttributionGraph(full: full, columns: try GraphColumns(f, at: ShardSchema.graphGroupName(index: k)), what: "test")
            #expect(g.layout == r.graph.layout)
            let adjacency = closeness(g.adjacency.dense(), r.graph.adjacency.dense(), absScale: 1e-6, rel: 1e-4)
            #expect(adjacency.ok, "the traced adjacency, entry for entry: \(adjacency)")
            #expect((0..<g.layout.nFeatures).allSatisfy { g.feature(selected: $0) == r.graph.feature(selected: $0)
                && abs(g.activation(selected: $0) - r.graph.activation(selected: $0)) <= 1e-5 * max(1, abs(g.activation(selected: $0))) })
            #expect(g.logitTargets.map(\.tokenId) == r.graph.logitTargets.map(\.tokenId) && g.inputTokens == r.graph.inputTokens)
            // Pruning the stored full graph reproduces the stored pruned graph.
            let p = try prune(g, nodeThreshold: 0.8, edgeThreshold: 0.98)
            #expect(try f.read(Int64.self, at: "\(ShardSchema.graphGroupName(index: k))/node_index").values.map(Int.init)
                    == (0..<full.nNodes).filter { p.nodeMask[$0] })
            #expect(try f.read(Int32.self, at: "\(ShardSchema.graphGroupName(index: k))/edge_source").values.count == p.edgeMask.count { $0 })
        }
    }

    @Test func slugsArePlainFileNames() {
        #expect(graphSlug(promptID: "a/b c") == "a_b_c")
        #expect(graphSlug(promptID: "..") == "prompt")
        #expect(graphSlug(promptID: "p-1.x") == "p-1.x")
    }
}
