import Foundation
import Storage
import Testing
import TestSupport

/// `circuits eap` as a process on the demo model: bad lines reported and skipped, the output
/// file, the plot and the JSON line, a truth file, option checks and help.
@Suite struct EAPCommandTests {
    static let model = repositoryRoot.appendingPathComponent("models/demo/model").path

    static func line(_ id: String, _ cleanCity: String, _ corruptCity: String, _ answer: String, _ wrong: String) -> String {
        let t = "fact : the capital of the state containing %@ is"
        return #"{"id": "\#(id)", "clean": "\#(t.replacingOccurrences(of: "%@", with: cleanCity))", "corrupt": "\#(t.replacingOccurrences(of: "%@", with: corruptCity))", "answer": "\#(answer)", "wrong": "\#(wrong)"}"#
    }

    /// Three good pairs and three bad lines.
    static let pairLines = [
        line("dallas", "dallas", "oakland", "austin", "sacramento"),
        "{not json",
        line("miami", "miami", "houston", "tallahassee", "austin"),
        line("multi", "miami", "houston", "tallahassee austin", "austin"),
        #"{"id": "short", "clean": "fact : the capital of texas is", "corrupt": "fact : the capital of the state containing dallas is", "answer": "austin", "wrong": "salem"}"#,
        line("fresno", "fresno", "dallas", "sacramento", "austin"),
    ]

    static func eap(_ extra: [String], pairs: [String] = pairLines, in folder: ScratchFolder) throws -> (status: Int32?, stdout: String, stderr: String) {
        let file = folder.file("pairs.jsonl")
        try Data(pairs.joined(separator: "\n").utf8).write(to: file)
        return try CircuitsProcess.run(["eap", "--model", model, "--pairs", file.path] + extra, in: folder.url, seconds: 300)
    }

    static func lastJSON(_ stdout: String) throws -> [String: Any] {
        let last = try #require(stdout.split(separator: "\n").last)
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "last line: \(last)")
    }

    /// P(|s⁺| > |s⁻|) + ½ P(tie), pair by pair: the standard AUC computed without the ROC code.
    static func mannWhitney(_ s: [Double], _ truth: [Bool]) -> Double {
        var u = 0.0, n = 0.0
        for i in s.indices where truth[i] {
            for j in s.indices where !truth[j] {
                u += abs(s[i]) > abs(s[j]) ? 1 : abs(s[i]) == abs(s[j]) ? 0.5 : 0
                n += 1
            }
        }
        return u / n
    }

    @Test func skipsBadLinesAndWritesScoresTruthAndPlot() throws {
        let folder = try ScratchFolder("eap-cli")
        defer { folder.remove() }
        let out = folder.file("eap.h5")
        let r = try Self.eap(["--ig-steps", "2", "--exact", "--out", out.path], in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let pairsPath = folder.file("pairs.jsonl").path
        let skipped = r.stderr.split(separator: "\n").filter { $0.contains("skipped:") }
        #expect(skipped.count == 3, "\(r.stderr)")
        #expect(skipped[0].hasSuffix("\(pairsPath):2 (id line-2): skipped: not a JSON object"))
        #expect(skipped[1].hasSuffix("\(pairsPath):4 (id multi): skipped: answer 'tallahassee austin' is 2 tokens ('tallahassee' 'austin'), not one"))
        #expect(skipped[2].hasSuffix("\(pairsPath):5 (id short): skipped: clean has 8 tokens and corrupt 11 (BOS included); a pair needs the same number"))

        let json = try Self.lastJSON(r.stdout)
        let (sums, evaluation, table) = try EAPResultFile.read(out)
        #expect(json["pairs"] as? Int == 3 && json["skipped"] as? Int == 3 && sums.pairs == 3)
        #expect(json["edges"] as? Int == sums.edges.count && sums.edges.count > 100)
        for key in ["eap_s", "eap_ig_s", "exact_s", "auc_eap", "auc_eap_ig", "pessimistic_auc_eap", "pessimistic_auc_eap_ig"] {
            #expect(json[key] is Double, "\(key) in \(json)")
        }
        #expect(json["auc_exact"] == nil && json["truth"] as? String == "exact")
        #expect(table.rows.map(\.id) == ["dallas", "line-2", "miami", "multi", "short", "fresno"])
        #expect(table.rows.map { $0.reason == nil } == [true, false, true, false, false, true])
        #expect(sums.igSteps == 2 && sums.metric == "logit-diff" && Set(sums.scores.keys) == [.eap, .eapIG, .exact])

        // The truth recomputed from the summed exact scores: |mean ΔL| ≥ 1 % of mean |L(clean) − L(corrupt)|.
        let exactMean = sums.scores[.exact]!.map { $0 / 3 }
        let threshold = 0.01 * sums.absoluteTotalEffect / 3
        let truth = exactMean.map { abs($0) >= threshold }
        #expect(evaluation.truth?.mask == truth && json["truth_edges"] as? Int == truth.filter { $0 }.count)
        let eapMean = sums.scores[.eap]!.map { $0 / 3 }, igMean = sums.scores[.eapIG]!.map { $0 / 3 }
        #expect(abs((json["auc_eap"] as? Double ?? -1) - Self.mannWhitney(eapMean, truth)) < 1e-9)
        #expect(abs((json["auc_eap_ig"] as? Double ?? -1) - Self.mannWhitney(igMean, truth)) < 1e-9)
        // Each pair's clean metric is the logit difference the model gives; the table holds it.
        #expect(abs(table.rows.compactMap { $0.reason == nil ? $0.cleanMetric : nil }.reduce(0, +) - sums.cleanMetric) < 1e-9)

        let svg = try String(contentsOf: folder.file("eap-roc.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.contains(String(format: "EAP: AUC %.3f", json["auc_eap"] as? Double ?? -1)))
        #expect(json["plot"] as? String == folder.file("eap-roc.svg").path)
    }

    /// --truth: the file's edges are the truth; exact patching not run.
    @Test func aTruthFileGivesTheGroundTruth() throws {
        let folder = try ScratchFolder("eap-cli-truth")
        defer { folder.remove() }
        let names = ["m3->logits", "a3.h0->logits", "m2->m3", "input->m0"]
        try Data(("# hand-picked\n" + names.joined(separator: "\n") + "\n").utf8).write(to: folder.file("truth.txt"))
        let out = folder.file("t.h5")
        let r = try Self.eap(["--truth", folder.file("truth.txt").path, "--out", out.path], pairs: Array(Self.pairLines.prefix(3)), in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let json = try Self.lastJSON(r.stdout)
        let (sums, evaluation, _) = try EAPResultFile.read(out)
        let truth = sums.edges.map { names.contains($0) }
        #expect(truth.filter { $0 }.count == 4 && evaluation.truth?.mask == truth && json["truth_edges"] as? Int == 4)
        #expect(json["exact_s"] == nil && json["auc_eap_ig"] == nil)
        let mean = sums.scores[.eap]!.map { $0 / Double(sums.pairs) }
        #expect(abs((json["auc_eap"] as? Double ?? -1) - Self.mannWhitney(mean, truth)) < 1e-9)

        try Data("m3->logits\nm9->logits\n".utf8).write(to: folder.file("bad.txt"))
        let bad = try Self.eap(["--truth", folder.file("bad.txt").path, "--out", folder.file("b.h5").path], pairs: Array(Self.pairLines.prefix(1)), in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("error: truth file \(folder.file("bad.txt").path):2: 'm9->logits' is not an edge of this model"), "\(bad.stderr)")
    }

    @Test func noUsablePairIsAnError() throws {
        let folder = try ScratchFolder("eap-cli-none")
        defer { folder.remove() }
        let r = try Self.eap(["--out", folder.file("x.h5").path], pairs: ["{not json", "[]"], in: folder)
        #expect(r.status == 2)
        #expect(r.stderr.contains(":1 (id line-1): skipped: not a JSON object") && r.stderr.contains(":2 (id line-2): skipped: not a JSON object"), "\(r.stderr)")
        #expect(r.stderr.hasSuffix("no usable pair (2 lines, all skipped: see the lines above)\n"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.file("x.h5").path))
    }

    @Test(arguments: [
        (["--ig-steps", "0"], "--ig-steps must be an integer from 1 to 1000 (got 0)"),
        (["--metric", "accuracy"], "--metric"),
    ])
    func badOptionsNameTheFlag(extra: [String], expected: String) throws {
        let folder = try ScratchFolder("eap-cli-options")
        defer { folder.remove() }
        let r = try Self.eap(["--out", folder.file("x.h5").path] + extra, in: folder)
        #expect(r.status != 0 && r.status != nil && r.stderr.contains(expected), "\(r.stderr)")
    }

    @Test func helpTeaches() throws {
        let folder = try ScratchFolder("eap-cli-help")
        defer { folder.remove() }
        let r = try CircuitsProcess.run(["eap", "--help"], in: folder.url, seconds: 30)
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")   // help wraps lines
        for phrase in ["Edge Attribution Patching", "--ig-steps", "--exact", "--truth", "logit-diff", "PAIRS.jsonl", "eap-roc.svg", "1.0% of the mean", "\" Paris\""] {
            #expect(text.contains(phrase), "\(phrase) missing from help")
        }
    }
}
