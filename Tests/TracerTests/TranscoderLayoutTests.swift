import Foundation
import Testing
import TestSupport
@testable import Tracer

/// Published transcoder layouts listed under `transcoders:` (GemmaScope v1 `params.npz`,
/// GemmaScope-2 PLT and CLT safetensors), written at test time from each reference case's
/// native files, must give exactly the native load's features, errors and attribution.
@Suite struct TranscoderLayoutTests {
    /// The native files' config.yaml fields.
    static func configText(_ run: ReferenceRun) throws -> String {
        try String(contentsOf: run.transcoderDir.appendingPathComponent("config.yaml"), encoding: .utf8)
    }
    static func isCrossLayer(_ run: ReferenceRun) -> Bool {
        ((try? configText(run)) ?? "").contains("cross_layer_transcoder")
    }
    static func nativePLT(_ run: ReferenceRun, _ l: Int) throws -> SafeTensorsFile {
        try SafeTensorsFile(run.transcoderDir.appendingPathComponent("layer_\(l).safetensors"))
    }
    static func nLayers(_ run: ReferenceRun) throws -> Int { try ModelConfig(directory: run.modelDir).nLayers }

    /// PLT cases with JumpReLU thresholds and no skip: what GemmaScope v1 can express.
    static let npzCases = referenceCases().filter { run in
        guard !isCrossLayer(run), let f = try? nativePLT(run, 0) else { return false }
        return f.has("activation_function.threshold") && !f.has("W_skip")
    }
    static let pltCases = referenceCases().filter { !isCrossLayer($0) }
    static let cltCases = referenceCases().filter { isCrossLayer($0) }

    /// A folder holding `config.yaml` (the case's, plus the `transcoders:` list) and nothing else yet.
    static func listedFolder(_ run: ReferenceRun, label: String, files: [String]) throws -> URL {
        let dir = try ScratchFolder(label).url
        var yaml = try configText(run)
        if !yaml.hasSuffix("\n") { yaml += "\n" }
        yaml += "transcoders:\n" + files.map { "  - \"\($0)\"\n" }.joined()
        try yaml.write(to: dir.appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Loads both folders, then compares encoders, active features, activations, error vectors
    /// and the whole adjacency matrix.
    static func expectSameAsNative(_ run: ReferenceRun, _ dir: URL) throws {
        let model = try Transformer(directory: run.modelDir)
        let c = model.config
        let native = try TranscoderSet(directory: run.transcoderDir, nLayers: c.nLayers, dModel: c.dModel)
        let listed = try TranscoderSet(directory: dir, nLayers: c.nLayers, dModel: c.dModel)
        #expect(listed.activation == native.activation && listed.dTranscoder == native.dTranscoder && listed.kind == native.kind)
        #expect(listed.encoders == native.encoders, "\(run): encoders differ")
        #expect(listed.skips == native.skips, "\(run): skips differ")
        let tokens = try run.array("input_tokens").ints
        let record = try model.forward(tokens: tokens)
        let a = try FeatureActivations(record: record, transcoders: native)
        let b = try FeatureActivations(record: record, transcoders: listed)
        #expect(a.count > 0)
        #expect(b.activeFeatures == a.activeFeatures, "\(run): active features differ")
        #expect(b.values == a.values, "\(run): activations differ")
        #expect(b.scaledDecoders == a.scaledDecoders, "\(run): decoder rows differ")
        #expect(b.errors == a.errors, "\(run): error vectors differ")
        var t = PhaseTimings()
        let ga = try ReplacementModel(model: model, transcoders: native).attribute(tokens: tokens, options: run.attributionOptions, timings: &t)
        let gb = try ReplacementModel(model: model, transcoders: listed).attribute(tokens: tokens, options: run.attributionOptions, timings: &t)
        let adj = closeness(gb.adjacency.storage, ga.adjacency.storage, absScale: 1e-7, rel: 0)
        #expect(adj.ok, "\(run): adjacency \(adj)")
        // And the golden adjacency, as the native load is checked.
        let golden = closeness(gb.adjacency.dense(), try run.array("adjacency_matrix").floats, absScale: 5e-6, rel: 1e-3)
        #expect(golden.ok, "\(run): golden adjacency \(golden)")
    }

    @Test(arguments: npzCases)
    func gemmaScopeNPZMatchesNative(run: ReferenceRun) throws {
        let n = try Self.nLayers(run)
        let files = (0..<n).map { "layer_\($0)/width_test/params.npz" }
        let dir = try Self.listedFolder(run, label: "npz", files: files)
        defer { try? FileManager.default.removeItem(at: dir) }
        for l in 0..<n {
            let f = try Self.nativePLT(run, l)
            let enc = try f.info("W_enc")
            let (dT, d) = (enc.shape[0], enc.shape[1])
            let url = dir.appendingPathComponent(files[l])
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            // W_enc as GemmaScope stores it: [d_model, d_sae]. Even layers stored, odd layers deflated.
            try writeNPZ(url, [("W_enc", [d, dT], transpose(try f.floats("W_enc"), rows: dT, cols: d)),
                               ("W_dec", [dT, d], try f.floats("W_dec")),
                               ("threshold", [dT], try f.floats("activation_function.threshold")),
                               ("b_enc", [dT], try f.floats("b_enc")),
                               ("b_dec", [d], try f.floats("b_dec"))], deflate: l % 2 == 1)
        }
        try Self.expectSameAsNative(run, dir)
    }

    @Test(arguments: pltCases)
    func gemmaScope2PLTMatchesNative(run: ReferenceRun) throws {
        let n = try Self.nLayers(run)
        let files = (0..<n).map { "layer_\($0).safetensors" }
        let dir = try Self.listedFolder(run, label: "gs2plt", files: files.map { "plt/" + $0 })
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("plt"), withIntermediateDirectories: true)
        for l in 0..<n {
            let f = try Self.nativePLT(run, l)
            let enc = try f.info("W_enc")
            let (dT, d) = (enc.shape[0], enc.shape[1])
            var tensors = [FixtureTensor("w_enc", [d, dT], transpose(try f.floats("W_enc"), rows: dT, cols: d)),
                           FixtureTensor("w_dec", [dT, d], try f.floats("W_dec")),
                           FixtureTensor("b_enc", [dT], try f.floats("b_enc")),
                           FixtureTensor("b_dec", [d], try f.floats("b_dec"))]
            if f.has("activation_function.threshold") {
                tensors.append(FixtureTensor("threshold", [dT], try f.floats("activation_function.threshold")))
            }
            if f.has("W_skip") {
                // W_skip = affine_skip_connectionᵀ
                tensors.append(FixtureTensor("affine_skip_connection", [d, d], transpose(try f.floats("W_skip"), rows: d, cols: d)))
            }
            try writeSafeTensors(dir.appendingPathComponent("plt/" + files[l]), tensors)
        }
        try Self.expectSameAsNative(run, dir)
    }

    @Test(arguments: cltCases)
    func gemmaScope2CLTMatchesNative(run: ReferenceRun) throws {
        let n = try Self.nLayers(run)
        let files = (0..<n).map { "clt/layer_\($0).safetensors" }
        let dir = try Self.listedFolder(run, label: "gs2clt", files: files)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("clt"), withIntermediateDirectories: true)
        for l in 0..<n {
            let e = try SafeTensorsFile(run.transcoderDir.appendingPathComponent("W_enc_\(l).safetensors"))
            let dec = try SafeTensorsFile(run.transcoderDir.appendingPathComponent("W_dec_\(l).safetensors"))
            let enc = try e.info("W_enc_\(l)")
            let (dT, d) = (enc.shape[0], enc.shape[1])
            // w_dec[dT, nLayers, d]: layers < l are zero, layers l.. are the native W_dec_l[dT, n − l, d].
            let native = try dec.floats("W_dec_\(l)")
            var wDec = [Float](repeating: 0, count: dT * n * d)
            for f in 0..<dT {
                for m in l..<n {
                    for i in 0..<d { wDec[(f * n + m) * d + i] = native[(f * (n - l) + (m - l)) * d + i] }
                }
            }
            var tensors = [FixtureTensor("w_enc", [d, dT], transpose(try e.floats("W_enc_\(l)"), rows: dT, cols: d)),
                           FixtureTensor("w_dec", [dT, n, d], wDec),
                           FixtureTensor("b_enc", [dT], try e.floats("b_enc_\(l)")),
                           FixtureTensor("b_dec", [d], try e.floats("b_dec_\(l)"))]
            if e.has("threshold_\(l)") { tensors.append(FixtureTensor("threshold", [dT], try e.floats("threshold_\(l)"))) }
            try writeSafeTensors(dir.appendingPathComponent(files[l]), tensors)
        }
        try Self.expectSameAsNative(run, dir)
    }

    // MARK: - Errors name the file or field

    @Test func listedLayoutErrorsNameTheirFile() throws {
        guard let run = Self.pltCases.first else { return }
        // A remote reference.
        let remote = try Self.listedFolder(run, label: "remote", files: ["hf://google/gemma-scope-2b-pt-transcoders/layer_0/params.npz"])
        defer { try? FileManager.default.removeItem(at: remote) }
        #expect { try TranscoderSet(directory: remote) } throws: { e in
            "\(e)".contains("config.yaml") && "\(e)".contains("hf://google/gemma-scope-2b-pt-transcoders/layer_0/params.npz")
        }
        // A missing listed file.
        let missing = try Self.listedFolder(run, label: "missing", files: ["layer_0/params.npz"])
        defer { try? FileManager.default.removeItem(at: missing) }
        #expect { try TranscoderSet(directory: missing) } throws: { e in "\(e)".contains("layer_0/params.npz") && "\(e)".contains("layer 0") }
        // A corrupt archive.
        let corrupt = try Self.listedFolder(run, label: "corrupt", files: ["params.npz"])
        defer { try? FileManager.default.removeItem(at: corrupt) }
        try Data("not a zip".utf8).write(to: corrupt.appendingPathComponent("params.npz"))
        #expect { try TranscoderSet(directory: corrupt) } throws: { e in "\(e)".contains("params.npz") && "\(e)".contains("zip") }
        // An archive without W_dec.
        try writeNPZ(corrupt.appendingPathComponent("params.npz"), [("W_enc", [2, 3], [1, 2, 3, 4, 5, 6])], deflate: true)
        #expect { try TranscoderSet(directory: corrupt) } throws: { e in "\(e)".contains("params.npz") && "\(e)".contains("b_enc") }
        // A safetensors file in no known layout.
        let unknown = try Self.listedFolder(run, label: "unknown", files: ["x.safetensors"])
        defer { try? FileManager.default.removeItem(at: unknown) }
        try writeSafeTensors(unknown.appendingPathComponent("x.safetensors"), [FixtureTensor("encoder", [1], [0])])
        #expect { try TranscoderSet(directory: unknown) } throws: { e in "\(e)".contains("x.safetensors") && "\(e)".contains("w_enc") }
    }
}
