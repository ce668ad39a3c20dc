import Foundation
import Storage
import Testing
import TestSupport
import Tracer

/// `circuits intervene` as a process: circuit-tracer's goldens through the command line, the
/// `--set` forms, every bad input, and `--generate`.
@Suite struct InterveneCommandTests {
    static let goldens = InterventionGoldens.all()

    static func golden(_ name: String) throws -> InterventionGoldens {
        try #require(goldens.first { $0.run.caseName == name }, "intervention goldens of case \(name)")
    }

    /// Runs `circuits intervene` on `golden`'s model with its prompt file and `extra` options.
    static func intervene(_ golden: InterventionGoldens, _ extra: [String], in folder: ScratchFolder) throws -> (status: Int32?, stdout: String, stderr: String) {
        try CircuitsProcess.run(["intervene", "--model", golden.run.modelDir.path, "--transcoders", golden.run.transcoderDir.path,
                                 "--prompt-file", golden.run.caseDir.appendingPathComponent("prompt.txt").path] + extra,
                                in: folder.url, seconds: 120)
    }

    /// A result file's float dataset.
    static func floats(_ url: URL, _ name: String) throws -> (values: [Float], shape: [Int]) {
        let f = try HDF5File.open(url)
        defer { f.close() }
        return try f.read(Float.self, at: name)
    }

    static func ints(_ url: URL, _ name: String) throws -> [Int] {
        let f = try HDF5File.open(url)
        defer { f.close() }
        return try f.read(Int64.self, at: name).values.map { Int($0) }
    }

    /// Writes `list` as an interventions file.
    static func interventionsFile(_ list: [FeatureIntervention], in folder: ScratchFolder, name: String = "i.json") throws -> String {
        let json = "[" + list.map { "[\($0.layer), \($0.position), \($0.feature), \(Double($0.value))]" }.joined(separator: ", ") + "]"
        try Data(json.utf8).write(to: folder.file(name))
        return folder.file(name).path
    }

    /// The options of a golden run's mode.
    static func modeOptions(_ r: InterventionGoldens.Run) -> [String] {
        switch r.mode {
        case "frozen_attention": return ["--mode", "frozen-attention"]
        case "constrained_all": return ["--mode", "constrained"]
        case "constrained_range": return ["--mode", "constrained", "--constrained-layers", "\(r.constrained![0]):\(r.constrained![1])"]
        default: return ["--mode", r.mode]
        }
    }

    /// One run of every mode per case, through `--interventions FILE.json`: result.h5 holds the
    /// golden logits and activations.
    @Test(arguments: goldens)
    func goldenRunsThroughTheCommandLine(golden: InterventionGoldens) throws {
        let folder = try ScratchFolder("intervene-golden")
        defer { folder.remove() }
        var seen = Set<String>()
        for r in golden.runs where seen.insert(r.mode).inserted {
            let file = try Self.interventionsFile(r.interventions, in: folder)
            let out = folder.file("\(r.name).h5")
            let result = try Self.intervene(golden, ["--interventions", file, "--out", out.path] + Self.modeOptions(r), in: folder)
            try #require(result.status == 0, "\(golden) \(r.name): \(result.stderr)")
            #expect(try Self.ints(out, "input_tokens") == golden.tokens, "\(golden): the prompt file tokenizes as the goldens")
            let logits = try Self.floats(out, "logits"), acts = try Self.floats(out, "activations")
            let baseActs = try Self.floats(out, "base_activations")
            let n = golden.tokens.count
            #expect(logits.shape.first == n && acts.shape.count == 3 && acts.shape[1] == n)
            let l = withinGoldenBound(logits.values, try golden.run.array(r.name + "/logits").floats)
            #expect(l.ok, "\(golden) \(r.name) logits: \(l.detail)")
            let a = withinGoldenBound(acts.values, try golden.run.array(r.name + "/activations").floats)
            #expect(a.ok, "\(golden) \(r.name) activations: \(a.detail)")
            let b = withinGoldenBound(baseActs.values, try golden.run.array("base_activations").floats)
            #expect(b.ok, "\(golden) base_activations: \(b.detail)")
            let f = try HDF5File.open(out)
            defer { f.close() }
            #expect(try f.stringAttribute("mode") == Self.modeOptions(r)[1])
            #expect(try f.read(Double.self, at: "interventions").values.count == 4 * r.interventions.count)
        }
        #expect(seen.count >= 3)
    }

    /// `all`, negative positions and `*k` resolve to the explicit list: both runs write the same
    /// logits, and `all` of layer 3's feature 72 is the goldens' "every active position" run.
    @Test func setFormsEqualTheResolvedList() throws {
        let golden = try Self.golden("clt_jumprelu")
        let folder = try ScratchFolder("intervene-set")
        defer { folder.remove() }
        let n = golden.tokens.count
        let a = folder.file("a.h5"), b = folder.file("b.h5")
        var r = try Self.intervene(golden, ["--set", "3:all:72=0", "--set", "2:-1:83=*2", "--set", "0:-6:37=*0.5", "--out", a.path], in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let base = try Self.floats(a, "base_activations").values, dT = base.count / (4 * n)
        func clean(_ l: Int, _ p: Int, _ f: Int) -> Float { base[(l * n + p) * dT + f] }
        let explicit = [FeatureIntervention(layer: 3, position: 10, feature: 72, value: 0),
                        FeatureIntervention(layer: 3, position: 11, feature: 72, value: 0),
                        FeatureIntervention(layer: 2, position: n - 1, feature: 83, value: 2 * clean(2, n - 1, 83)),
                        FeatureIntervention(layer: 0, position: n - 6, feature: 37, value: 0.5 * clean(0, n - 6, 37))]
        #expect(clean(2, n - 1, 83) != 0 && clean(0, n - 6, 37) != 0)
        let resolved = try Self.floats(a, "interventions").values
        #expect(resolved == explicit.flatMap { [Float($0.layer), Float($0.position), Float($0.feature), $0.value] })
        r = try Self.intervene(golden, ["--interventions", try Self.interventionsFile(explicit, in: folder), "--out", b.path], in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let (la, lb) = (try Self.floats(a, "logits").values, try Self.floats(b, "logits").values)
        let (aa, ab) = (try Self.floats(a, "activations").values, try Self.floats(b, "activations").values)
        #expect(la == lb)
        #expect(aa == ab)

        let c = folder.file("c.h5")
        r = try Self.intervene(golden, ["--set", "3:all:72=0", "--out", c.path], in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let g = withinGoldenBound(try Self.floats(c, "logits").values, try golden.run.array("ablate_all_positions_iterative/logits").floats)
        #expect(g.ok, "\(g.detail)")
        #expect(r.stdout.contains("top logits at position \(n - 1)") && r.stdout.contains("largest changes of other features"), "\(r.stdout)")
    }

    /// Replacement mode without interventions reproduces the clean run (to the round-off of
    /// recomputing the last position).
    @Test func replacementWithoutInterventionsIsTheCleanRun() throws {
        let golden = try Self.golden("plt_relu")
        let folder = try ScratchFolder("intervene-replacement")
        defer { folder.remove() }
        let out = folder.file("r.h5")
        let r = try Self.intervene(golden, ["--mode", "replacement", "--out", out.path], in: folder)
        try #require(r.status == 0, "\(r.stderr)")
        let (logits, base) = (try Self.floats(out, "logits").values, try Self.floats(out, "base_logits").values)
        let c = closeness(logits, base, absScale: 1e-6, rel: 1e-5)
        #expect(c.ok, "\(c)")
        #expect(try Self.floats(out, "interventions").shape == [0, 4])
    }

    @Test func badInputIsOneErrorLineNamingTheArgument() throws {
        let golden = try Self.golden("clt_jumprelu")
        let folder = try ScratchFolder("intervene-bad")
        defer { folder.remove() }
        let n = golden.tokens.count
        let base = try golden.run.array("base_activations").floats, dT = base.count / (4 * n)
        let inactive = try #require((0..<dT).first { f in (0..<n).allSatisfy { base[$0 * dT + f] == 0 } })
        try Data("[[0, 1]]".utf8).write(to: folder.file("short.json"))
        try Data("{\"a\": 1}".utf8).write(to: folder.file("object.json"))
        try Data("[[0, 1, 2, 0], [0, 40, 2, 0]]".utf8).write(to: folder.file("far.json"))
        let cases: [([String], [String])] = [
            (["--set", "4:1:0=1"], ["--set 4:1:0=1", "layer 4"]),
            (["--set", "0:1:\(dT)=1"], ["--set 0:1:\(dT)=1", "feature \(dT)"]),
            (["--set", "0:\(n):0=1"], ["--set 0:\(n):0=1", "position \(n)"]),
            (["--set", "0:-\(n + 1):0=1"], ["--set 0:-\(n + 1):0=1", "position -\(n + 1)"]),
            (["--set", "0:1:0"], ["--set", "LAYER:POS:FEATURE=VALUE"]),
            (["--set", "x:1:0=1"], ["--set", "layer 'x'"]),
            (["--set", "0:1:0=abc"], ["--set", "value 'abc'"]),
            (["--set", "0:first:0=1"], ["--set", "position 'first'"]),
            (["--set", "0:all:\(inactive)=0"], ["--set 0:all:\(inactive)=0", "active at no position"]),
            ([], ["--set or --interventions"]),
            (["--mode", "frozen-attention"], ["--set or --interventions"]),
            (["--interventions", folder.file("short.json").path], ["--interventions", "entry 0"]),
            (["--interventions", folder.file("object.json").path], ["--interventions", "JSON array"]),
            (["--interventions", folder.file("far.json").path], ["--interventions", "entry 1", "position 40"]),
            (["--interventions", folder.file("missing.json").path], ["--interventions", "cannot read"]),
            (["--set", "0:1:0=0", "--mode", "sideways"], ["--mode 'sideways'"]),
            (["--set", "0:1:0=0", "--mode", "constrained", "--constrained-layers", "0:5"], ["--constrained-layers 0:5"]),
            (["--set", "0:1:0=0", "--mode", "constrained", "--constrained-layers", "2:1"], ["--constrained-layers '2:1'"]),
            (["--set", "0:1:0=0", "--constrained-layers", "0:2"], ["--constrained-layers", "--mode constrained"]),
            (["--set", "0:1:0=0", "--top-logits", "0"], ["--top-logits"]),
            (["--set", "0:1:0=0", "--generate=-1"], ["--generate"]),
        ]
        for (extra, expected) in cases {
            let r = try Self.intervene(golden, extra + ["--out", folder.file("x.h5").path], in: folder)
            #expect(r.status == 2, "\(extra): status \(String(describing: r.status)) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.hasPrefix("error: "), "\(extra): \(r.stderr)")
            for e in expected { #expect(r.stderr.contains(e), "\(extra): \(r.stderr) lacks \(e)") }
            #expect(!FileManager.default.fileExists(atPath: folder.file("x.h5").path), "\(extra): nothing written")
        }
    }

    /// `--generate` is deterministic, and an intervention that changes the top token changes the
    /// continuation (the goldens' ablation of plt_relu's two strongest last-position features).
    @Test func generateHoldsTheInterventionAndIsDeterministic() throws {
        let golden = try Self.golden("plt_relu")
        let run = try #require(golden.runs.first { $0.name == "ablate_top2_iterative" })
        let folder = try ScratchFolder("intervene-generate")
        defer { folder.remove() }
        let file = try Self.interventionsFile(run.interventions, in: folder)
        var outputs: [String] = []
        for name in ["g1.h5", "g2.h5"] {
            let r = try Self.intervene(golden, ["--interventions", file, "--generate", "3", "--out", folder.file(name).path], in: folder)
            try #require(r.status == 0, "\(r.stderr)")
            outputs.append(r.stdout.replacingOccurrences(of: name, with: ""))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].contains("unpatched") && outputs[0].contains("patched"), "\(outputs[0])")
        let g1 = folder.file("g1.h5")
        let patched = try Self.ints(g1, "generated_tokens"), unpatched = try Self.ints(g1, "base_generated_tokens")
        let again = try Self.ints(folder.file("g2.h5"), "generated_tokens")
        #expect(patched == again)
        #expect(patched.count == 3 && unpatched.count == 3)
        #expect(patched.first != unpatched.first, "the ablation changes the top token: \(patched) vs \(unpatched)")
        let logits = try Self.floats(g1, "logits").values, base = try Self.floats(g1, "base_logits").values
        let V = logits.count / golden.tokens.count
        func argmax(_ row: ArraySlice<Float>) -> Int { row.indices.max { row[$0] < row[$1] }! - row.startIndex }
        #expect(patched.first == argmax(logits.suffix(V)) && unpatched.first == argmax(base.suffix(V)))
    }

    /// `circuits bench intervention` on real files: both times, the ratio and the machine, then a JSON line.
    @Test func benchReportsTheRatio() throws {
        let golden = try Self.golden("plt_relu")
        let folder = try ScratchFolder("intervene-bench")
        defer { folder.remove() }
        let r = try CircuitsProcess.run(["bench", "intervention", "--model", golden.run.modelDir.path, "--transcoders", golden.run.transcoderDir.path,
                                         "--prompt", golden.run.prompt.trimmingCharacters(in: .newlines), "--repeats", "1"], in: folder.url, seconds: 120)
        try #require(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("forward + encodings") && r.stdout.contains("intervened pass") && r.stdout.contains("machine"), "\(r.stdout)")
        let last = try #require(r.stdout.split(separator: "\n").last)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let forward = try #require(json["forward_s"] as? Double), ratio = try #require(json["ratio"] as? Double)
        #expect(forward > 0 && ratio > 1 && json["n_pos"] as? Int == golden.tokens.count, "\(json)")
    }
}
