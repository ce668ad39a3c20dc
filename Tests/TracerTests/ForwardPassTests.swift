import Foundation
import Testing
import TestSupport
@testable import Tracer

/// The recorded forward pass against circuit-tracer's `debug/*` intermediates, case by case.
@Suite struct ForwardPassTests {
    static let cases = referenceCases()

    @Test(arguments: cases)
    func forwardMatchesGoldens(run: ReferenceRun) throws {
        let model = try Transformer(directory: run.modelDir)
        let tokens = try run.array("input_tokens").ints
        let rec = try model.forward(tokens: tokens, allLogits: true)
        let L = model.config.nLayers
        func check(_ name: String, _ ours: [Float], absScale: Double = 2e-6, rel: Double = 1e-4) throws {
            guard run.hasArray("debug/" + name) else { return }
            let c = closeness(ours, try run.array("debug/" + name).floats, absScale: absScale, rel: rel)
            #expect(c.ok, "\(run) debug/\(name): \(c)")
        }
        try check("hook_embed", rec.tokenEmbeddings)
        try check("resid_pre", rec.residPre.flatMap { $0 })
        try check("ln1_scale", rec.ln1Scale.flatMap { $0 })
        try check("attn_pattern", model.patterns(rec).flatMap { $0 })
        try check("resid_mid", rec.residMid.flatMap { $0 })
        try check("ln2_scale", rec.ln2Scale.flatMap { $0 })
        try check("ln2_normalized", rec.ln2Normalized.flatMap { $0 })
        try check("mlp_in", rec.mlpIn.flatMap { $0 })
        try check("mlp_out", rec.mlpOut.flatMap { $0 })
        try check("resid_final", rec.residFinal)
        try check("ln_final_scale", rec.lnFinalScale)
        if !rec.postAttentionScale.isEmpty { try check("ln1_post_scale", rec.postAttentionScale.flatMap { $0 }) }
        if !rec.postMLPScale.isEmpty { try check("ln2_post_scale", rec.postMLPScale.flatMap { $0 }) }
        let logitsName = run.hasArray("debug/logits_pre_softcap") ? "logits_pre_softcap" : "logits_all_positions"
        try check(logitsName, rec.allLogits)
        #expect(rec.residPre.count == L)
    }
}
