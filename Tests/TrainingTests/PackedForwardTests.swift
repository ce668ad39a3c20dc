import Foundation
import Testing
import Tracer
@testable import Training

/// The training data's forward passes run several prompts packed back to back
/// (`Transformer.forward(packed:)`); each prompt must get the activations of its own forward
/// pass, on every architecture (learned positions, rotary with GQA, Gemma-2 norms and softcaps).
@Suite struct PackedForwardTests {
    @Test(arguments: SyntheticModel.Architecture.allCases)
    func packedPromptsMatchTheirOwnForwardPasses(_ architecture: SyntheticModel.Architecture) throws {
        var shape = SyntheticModel.Shape()
        shape.architecture = architecture
        shape.nLayers = 2; shape.dModel = 32; shape.nHeads = 4; shape.nVocab = 50; shape.nCtx = 16
        if architecture != .gpt2 { shape.nKVHeads = 2 }
        let model = try SyntheticModel.transformer(shape, seed: 3)
        let prompts = [[1, 5, 9], [2], [3, 4, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 2, 3], [8, 8, 8, 8]]
        let packed = try model.forward(packed: prompts)
        #expect(packed.nPos == prompts.map(\.count).reduce(0, +))
        var row = 0
        for (i, p) in prompts.enumerated() {
            let own = try model.forward(tokens: p)
            for l in 0..<shape.nLayers {
                for (name, a, b) in [("residMid", packed.residMid[l], own.residMid[l]), ("mlpIn", packed.mlpIn[l], own.mlpIn[l]),
                                     ("mlpOut", packed.mlpOut[l], own.mlpOut[l])] {
                    var worst: Float = 0, scale: Float = 0
                    for j in 0..<(p.count * shape.dModel) {
                        worst = max(worst, abs(a[row * shape.dModel + j] - b[j]))
                        scale = max(scale, abs(b[j]))
                    }
                    // Equal up to float32 round-off of GEMMs over other row counts (relative to
                    // the tensor's largest entry: near-zero entries carry the others' round-off).
                    #expect(worst <= 1e-5 * scale, "\(architecture) prompt \(i) layer \(l) \(name): worst difference \(worst), largest entry \(scale)")
                }
            }
            row += p.count
        }
    }

    @Test func packedForwardRejectsAnEmptyPromptAndTooLongOnes() throws {
        var shape = SyntheticModel.Shape()
        shape.nLayers = 1; shape.dModel = 16; shape.nHeads = 2; shape.nVocab = 20; shape.nCtx = 4
        let model = try SyntheticModel.transformer(shape, seed: 1)
        #expect(throws: TracerError.self) { _ = try model.forward(packed: [[1, 2], []]) }
        #expect(throws: TracerError.self) { _ = try model.forward(packed: [[1, 2], [1, 2, 3, 4, 5]]) }
    }
}
