// EAP at corpus scale with real processes on loopback: a job of prompt pairs on the demo model,
// sharded over workers, merged and reported; compared with `EdgeAttribution` run in-process.
import Foundation
import Shared
import Storage
import Testing
import TestSupport
import Tokenizers
import Tracer

/// An EAP job over the demo model: the fixture's two-hop pairs (the first `pairs`), then
/// `extraLines`, in a scratch folder.
struct EAPTestJob {
    static let model = repositoryRoot.appendingPathComponent("models/demo/model")
    static let pairLines = try! String(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/eap/demo-two-hop.jsonl"), encoding: .utf8)
        .split(separator: "\n").map(String.init)

    let folder: ScratchFolder
    let spec: URL
    let output: URL

    init(_ label: String, pairs: Int, extraLines: [String] = [], pairsPerTask: Int = 3, igSteps: Int = 2, lease: Double = 6) throws {
        folder = try ScratchFolder(label)
        output = folder.file("out")
        try (Array(Self.pairLines.prefix(pairs)) + extraLines).joined(separator: "\n")
            .write(to: folder.file("pairs.jsonl"), atomically: true, encoding: .utf8)
        spec = folder.file("job.yaml")
        try """
        model: \(Self.model.path)
        pairs: pairs.jsonl
        output: out
        prompts_per_task: \(pairsPerTask)
        workers: 2
        lease_seconds: \(lease)
        heartbeat_seconds: 0.3
        eap: {metric: logit-diff, ig_steps: \(igSteps)}
        """.write(to: spec, atomically: true, encoding: .utf8)
    }

    var aggregate: URL { output.appendingPathComponent("aggregate.h5") }

    /// The merged sums of the run.
    func merged() throws -> EdgeScoreSums {
        let f = try HDF5File.open(aggregate)
        defer { f.close() }
        return try #require(try EdgeScoreSumsFile.read(f))
    }

    /// The same pairs scored in this process: tokenized by hand (BOS, then one id per word of the
    /// word-level vocabulary) and summed in float64, pair by pair. BLAS on one thread, as the
    /// workers run it (`--threads 1`): OpenBLAS's float32 products depend on its thread count.
    static func inProcess(pairs n: Int, igSteps: Int) throws -> (sums: [EdgeScoreSums.Method: [Double]], edges: [String], clean: Double, corrupt: Double) {
        let threads = blasThreads
        setBLASThreads(1)
        defer { setBLASThreads(threads) }
        let tokenizer = try Tokenizer(modelDirectory: model)
        let bos = try tokenizer.attributedIds(for: "fact")[0]
        func ids(_ text: String) -> [Int] { [bos] + text.split(separator: " ").map { tokenizer.id(of: String($0))! } }
        let engine = EdgeAttribution(model: try Transformer(directory: model), metric: .logitDiff)
        var eap: [Double]?, ig: [Double]?, clean = 0.0, corrupt = 0.0
        for line in pairLines.prefix(n) {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: String]
            let pair = PromptPair(id: o["id"]!, clean: ids(o["clean"]!), corrupt: ids(o["corrupt"]!),
                                  answer: tokenizer.id(of: o["answer"]!)!, wrong: tokenizer.id(of: o["wrong"]!)!)
            let a = try engine.eap(pair), b = try engine.eapIG(pair, steps: igSteps)
            eap = zip(eap ?? [Double](repeating: 0, count: a.eap!.count), a.eap!).map(+)
            ig = zip(ig ?? [Double](repeating: 0, count: b.eapIG!.count), b.eapIG!).map(+)
            clean += a.cleanMetric; corrupt += a.corruptMetric
        }
        let g = engine.graph
        return ([.eap: eap!, .eapIG: ig!], g.edges.map(g.name(of:)), clean, corrupt)
    }

    /// Expects the run's merged sums to equal the in-process ones up to float64 summation order.
    func expectEqualToInProcess(pairs n: Int, igSteps: Int) throws {
        let m = try merged(), r = try Self.inProcess(pairs: n, igSteps: igSteps)
        #expect(m.pairs == n && m.edges == r.edges && m.metric == "logit-diff" && m.igSteps == igSteps)
        #expect(abs(m.cleanMetric - r.clean) <= 1e-9 * max(1, abs(r.clean)) && abs(m.corruptMetric - r.corrupt) <= 1e-9 * max(1, abs(r.corrupt)))
        for method in [EdgeScoreSums.Method.eap, .eapIG] {
            let got = try #require(m.scores[method]), want = try #require(r.sums[method])
            let scale = want.map(abs).max() ?? 1
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-9 * max(scale, 1e-12), "\(method.rawValue): max |difference| \(worst) at scale \(scale)")
            #expect(scale > 0, "\(method.rawValue): some edge matters")
        }
    }
}

@Suite(.serialized) struct EAPCorpusRunTests {
    @Test func twoWorkersGiveTheInProcessScoresAndBadPairsAreSkippedWithTheirReason() throws {
        let job = try EAPTestJob("eap-run", pairs: 8, extraLines: [
            #"{"id": "unknown", "clean": "fact : the capital of the state containing dallas is", "corrupt": "fact : the capital of the state containing gotham is", "answer": "austin", "wrong": "tallahassee"}"#,
            #"{"id": "length", "clean": "fact : the capital of the state containing dallas is", "corrupt": "fact : the state containing miami is", "answer": "austin", "wrong": "tallahassee"}"#,
            "{broken",
        ])
        defer { job.folder.remove() }
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "2", "--threads", "1"], in: job.folder.url, seconds: 300)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("scored 8 of 11 pairs (3 skipped)"), "\(r.stdout)")
        try job.expectEqualToInProcess(pairs: 8, igSteps: 2)

        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: job.output.appendingPathComponent("report.json"))) as! [String: Any]
        let entries = (report["prompts"] as? [[String: Any]]) ?? []
        func reason(_ id: String) -> String { entries.first { $0["id"] as? String == id }?["reason"] as? String ?? "" }
        #expect(reason("unknown").hasPrefix("corrupt holds a word outside the vocabulary ('gotham')"))
        #expect(reason("length").contains("clean has 11 tokens and corrupt 8"))
        #expect(reason("line-11") == "line 11: not a JSON object")
        let eap = try #require(report["eap"] as? [String: Any])
        #expect(eap["pairs_scored"] as? Int == 8 && eap["pairs_skipped"] as? Int == 3)
        let merged = try job.merged(), mean = merged.mean(.eap)!
        let best = mean.indices.max { abs(mean[$0]) < abs(mean[$1]) }!
        #expect(((eap["top_edges"] as? [[String: Any]])?.first?["edge"] as? String) == merged.edges[best])
        let html = try String(contentsOf: job.output.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Circuit: top 20 edges") && html.contains("gotham") && !html.contains("<script"))
    }

    @Test func aWorkerKilledMidTaskChangesNothing() throws {
        let job = try EAPTestJob("eap-sigkill", pairs: 12, pairsPerTask: 2, igSteps: 16, lease: 3)
        defer { job.folder.remove() }
        let (endpoint, coordinator, victim) = try startCoordinatorAndVictim(TestJob(wrapping: job))
        #expect(eventually(seconds: 60) { victim.stderr.contains("worker victim: task ") })
        victim.kill(SIGKILL)
        victim.wait()
        let log = victim.stderr
        let survivor = try CircuitsProcess(["worker", "--connect", endpoint, "--threads", "1", "--id", "survivor"], logs: job.folder.url, name: "survivor")
        #expect(coordinator.wait(seconds: 240) == 0, "coordinator: \(coordinator.stderr)")
        #expect(survivor.wait(seconds: 30) == 0)
        // The victim died inside a task it had started; the survivor did that task again.
        let started = Set(log.components(separatedBy: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "worker victim: task "), line.hasSuffix("prompts)") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        })
        let finished = Set(log.components(separatedBy: "\n").compactMap { line -> Int? in
            guard let r = line.range(of: "worker victim: task "), line.contains(" done ") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        })
        #expect(!started.subtracting(finished).isEmpty, "the victim was killed mid-task: \(log)")
        #expect(coordinator.stderr.contains("silent past its lease"))
        let completed = TestJob(wrapping: job).completions
        #expect(completed.sorted() == Array(0..<6), "each task completed once: \(completed)")
        try job.expectEqualToInProcess(pairs: 12, igSteps: 16)
    }
}

extension TestJob {
    /// The `TestJob` view of an EAP job's folder (for the coordinator helpers and the journal).
    init(wrapping job: EAPTestJob) { folder = job.folder; spec = job.spec; output = job.output }
}
