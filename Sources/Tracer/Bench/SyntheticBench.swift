import Foundation
import Logging

/// The seeded model the synthetic benchmarks run on.
public enum SyntheticBench {
    /// Draws the model of shape `s` and transcoders calibrated so that about `s.activePerSlot`
    /// features fire per layer and position, and a random prompt of `promptTokens` tokens plus BOS.
    ///
    /// Calibration prompts are shaped like the benchmarked one (at least 4, 256+ positions in
    /// all). Beyond 256 tokens a few random prompts calibrate badly (late positions of one prompt
    /// are strongly correlated), so the benchmarked prompt itself is the calibration.
    public static func build(_ s: SyntheticModel.Shape, promptTokens: Int, seed: UInt64, logger: Logger) throws -> (ReplacementModel, tokens: [Int]) {
        let building = "building a synthetic \(s.architecture.rawValue) model: \(s.nLayers) layers, d_model \(s.dModel), \(s.nHeads) heads"
            + (s.architecture == .gpt2 ? "" : " (\(s.nKVHeads ?? s.nHeads) key/value, d_head \(s.dHead ?? s.dModel / s.nHeads)), d_mlp \(s.dMLP ?? 4 * s.dModel)")
            + ", vocab \(s.nVocab), \(String(format: "%.2f", Double(s.parameterCount) / 1e9))B parameters as \(s.weightStorage.rawValue)"
            + "; \(s.dTranscoder) features per layer"
        logger.info("\(building)")
        let m = try SyntheticModel.transformer(s, seed: seed)
        var rng = SeededRandom(seed: seed &+ 1)
        let bos = m.config.bosTokenId ?? s.nVocab - 1
        func randomPrompt() -> [Int] { [bos] + (0..<promptTokens).map { _ in Int(rng.next() % UInt64(s.nVocab - 1)) } }
        let calibration: [[Int]], ids: [Int]
        if promptTokens <= 256 {
            calibration = (0..<max(4, 256 / promptTokens)).map { _ in randomPrompt() }
            ids = randomPrompt()
        } else {
            ids = randomPrompt()
            calibration = [ids]
        }
        let tc = try SyntheticModel.transcoders(s, model: m, calibration: calibration, seed: seed &+ 2)
        return (ReplacementModel(model: m, transcoders: tc), ids)
    }
}
