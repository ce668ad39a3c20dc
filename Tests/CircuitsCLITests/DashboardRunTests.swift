// Feature dashboards of real corpus runs (worker processes, shards, merge): equal to one pass
// over the corpus in Float64 (NaiveDashboards over the engine's transcoder activations, prompt by
// prompt); on the demo model, a statistics-only run builds every feature's dashboard and the
// features responding to a label show contexts of that label in their top-k; `circuits features`
// prints and exports them. The killed-worker case is in CorpusRunTests.
import Coordinator
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tracer

/// Checks that the dashboards of `aggregate` equal one pass over `prompts` (in corpus order).
func expectDashboardsEqualOnePass(aggregate: URL, model: URL, transcoders: URL, prompts: [String],
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
    let f = try HDF5File.open(aggregate)
    let merged = try #require(try FeatureDashboardsFile.read(f), sourceLocation: sourceLocation)
    f.close()
    // Worker processes and this one may split their GEMMs over different BLAS threads (tests
    // running beside this one change them), so activations may differ in the last bits: the same
    // examples in the same order are required, activations equal within 1e-5 relative.
    let session = try TraceSession(modelDirectory: model, transcoderDirectory: transcoders)
    let tc = session.replacement.transcoders
    let corpus = try prompts.enumerated().map { k, text in
        let tokens = try session.tokens(for: text)
        let a = try FeatureActivations(record: try session.replacement.model.forward(tokens: tokens), transcoders: tc)
        return NaiveDashboards.Prompt(ordinal: Int64(k), tokens: tokens.map(Int32.init),
                                      entries: zip(a.activeFeatures, a.values).map { ($0.layer * tc.dTranscoder + $0.index, $0.pos, $1) })
    }
    let naive = NaiveDashboards(corpus, features: tc.nLayers * tc.dTranscoder, parameters: merged.parameters)
    let differences = naive.differences(merged, tolerance: 1e-5)
    #expect(differences.isEmpty, "\(differences.prefix(5))", sourceLocation: sourceLocation)
    #expect(merged.logits?.topIDs.count == tc.nLayers * tc.dTranscoder * DashboardParameters.logitCount,
            "logits of every feature", sourceLocation: sourceLocation)
}

@Suite(.serialized) struct DashboardRunTests {
    static let demo = repositoryRoot.appendingPathComponent("models/demo")
    static let corpus = repositoryRoot.appendingPathComponent("jobs/demo_corpus.jsonl")

    @Test func statisticsOnlyDemoRunHasEveryDashboardAndTheLabelsContexts() throws {
        let folder = try ScratchFolder("dashboards-demo")
        defer { folder.remove() }
        let spec = folder.file("job.yaml")
        try """
        model: \(Self.demo.appendingPathComponent("model").path)
        transcoders: \(Self.demo.appendingPathComponent("clt").path)
        corpus: \(Self.corpus.path)
        output: out
        prompts_per_task: 16
        workers: 2
        statistics: {attribution: false, dashboard_top_k: 20}
        """.write(to: spec, atomically: true, encoding: .utf8)
        let r = try CircuitsProcess.run(["run", spec.path, "--threads", "1"], in: folder.url, seconds: 300)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let out = folder.file("out"), aggregate = out.appendingPathComponent("aggregate.h5")

        let lines = try String(contentsOf: Self.corpus, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        try expectDashboardsEqualOnePass(aggregate: aggregate, model: Self.demo.appendingPathComponent("model"),
                                         transcoders: Self.demo.appendingPathComponent("clt"), prompts: lines.map { $0["prompt"] as! String })

        // Every feature active anywhere has its dashboard: min(k, active positions) top contexts, from the whole corpus.
        let run = try RunDashboards(aggregate: aggregate)
        for g in 0..<run.dashboards.featureCount {
            #expect(run.dashboards.top[g].count == min(20, Int(run.statistics.activeCount[g])), "feature \(g)")
        }
        #expect(run.statistics.activeCount.filter { $0 > 0 }.count > 100)

        // The features the report lists as responding to a label show contexts of that label in their top-k.
        let label = Dictionary(uniqueKeysWithValues: lines.map { ($0["id"] as! String, $0["label"] as? String ?? "") })
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as! [String: Any]
        let recovery = try #require(report["label_recovery"] as? [[String: Any]])
        var checked = 0
        for entry in recovery {
            let name = entry["label"] as! String
            for feature in entry["responding_features"] as! [String] {
                let d = try run.dashboard(try #require(FeatureID(parsing: feature)))
                let labels = d.groups[0].contexts.map { label[$0.promptID] ?? "?" }
                #expect(labels.contains(name), "\(feature) responds to \(name); its top-k is from \(labels)")
                checked += 1
            }
        }
        #expect(checked > 20)
        #expect(recovery.contains { $0["label"] as? String == "texas" && !($0["responding_features"] as! [Any]).isEmpty })
        // The report shows the dashboard of every feature it names, linked from the tables.
        let dashboards = try #require(report["feature_dashboards"] as? [[String: Any]])
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        for d in dashboards {
            let name = d["feature"] as! String, anchor = "dash-" + name.replacingOccurrences(of: "/", with: "-")
            #expect(html.contains("id=\"\(anchor)\"") && html.contains("href=\"#\(anchor)\""), "\(name)")
            #expect(!(d["summary"] as! String).isEmpty && !(d["top_logits"] as! [String]).isEmpty)
        }

        // circuits features: text, circuit-tracer JSON, and its errors.
        let texasFeature = (recovery.first { $0["label"] as? String == "texas" }!["responding_features"] as! [String])[0]
        let text = try CircuitsProcess.run(["features", out.path, "--feature", texasFeature], in: folder.url)
        #expect(text.status == 0 && text.stdout.contains("Top activations:") && text.stdout.contains("promotes:"), "\(text.stderr)")
        #expect(text.stdout.contains("texas"))
        let json = try CircuitsProcess.run(["features", out.path, "--feature", texasFeature, "--json"], in: folder.url)
        #expect(json.status == 0, "\(json.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        for key in ["transcoder_id", "index", "layer", "examples_quantiles", "top_logits", "bottom_logits", "act_min", "act_max",
                    "quantile_values", "histogram", "activation_frequency"] {
            #expect(doc[key] != nil, "\(key)")
        }
        let id = FeatureID(parsing: texasFeature)!
        #expect(doc["index"] as? Int == id.feature && doc["layer"] as? Int == id.layer)
        let groups = doc["examples_quantiles"] as! [[String: Any]]
        let top = groups[0]["examples"] as! [[String: Any]]
        let d = try run.dashboard(id)
        #expect(top.count == d.groups[0].contexts.count && top.first?["prompt_id"] as? String == d.groups[0].contexts[0].promptID)
        let acts = top.map { ($0["tokens_acts_list"] as! [Double])[$0["train_token_ind"] as! Int] }
        #expect(acts == acts.sorted(by: >) && acts[0] == doc["act_max"] as? Double, "highest activation first, at train_token_ind")
        #expect((doc["quantile_values"] as! [Double]).count == 100)

        let bad = try CircuitsProcess.run(["features", out.path, "--feature", "0/21"], in: folder.url)
        #expect(bad.status == 2 && bad.stderr.contains("--feature") && bad.stderr.contains("L<layer>/F<index>"), "\(bad.stderr)")
        let outside = try CircuitsProcess.run(["features", out.path, "--feature", "L9/F0"], in: folder.url)
        #expect(outside.status == 2 && outside.stderr.contains("no feature L9/F0"), "\(outside.stderr)")
    }
}
