import Foundation
import Tokenizers
import Storage
import Tracer

/// Training data: the transcoder input and the MLP output of every layer at every non-BOS token
/// of a corpus, produced by the engine's forward pass and served in shuffled batches.
///
/// Memory stays bounded: tokens are gathered into a block of `blockTokens` samples (forward
/// passes over consecutive prompts, cycling through the corpus), the block is served in a
/// seeded random order, then the next block is gathered from where the last one stopped. A
/// sample is `[x_0 … x_{L−1}, y_0 … y_{L−1}]` (`2·nLayers·dModel` floats), raw model units.
///
/// The position (block number, where the block started, how much of it was served) is all a
/// checkpoint needs: `restore(_:)` re-gathers that block with the same forward passes and the
/// same permutation, so a resumed run sees exactly the batches an uninterrupted run would.
public final class ActivationStream {
    /// Where the stream is, as saved in a checkpoint.
    public struct Position: Codable, Equatable, Sendable {
        /// Blocks gathered so far (the current one included); seeds the block's permutation.
        public var block = 0
        /// Prompt and token offset (among the prompt's non-BOS tokens) where the current block starts.
        public var startPrompt = 0
        public var startToken = 0
        /// Samples of the current block already served.
        public var served = 0
        /// Passes over the whole corpus completed when the current block started.
        public var epoch = 0
    }

    public let model: Transformer
    public let inputHook: TranscoderConfig.InputHook
    /// Token ids per prompt, BOS first, cut to the model's context.
    public let prompts: [[Int]]
    public let nLayers: Int
    public let dModel: Int
    /// Samples per block.
    public let blockTokens: Int
    /// Floats per sample: `2·nLayers·dModel`.
    public var sampleWidth: Int { 2 * nLayers * dModel }
    /// Non-BOS tokens in the corpus.
    public let corpusTokens: Int
    let seed: UInt64

    public private(set) var position = Position()
    /// `[filled, sampleWidth]`: the current block.
    private var block: [Float]
    private var filled = 0
    private var order: [Int] = []
    /// Where the next block starts.
    private var nextPrompt = 0, nextToken = 0, nextEpoch = 0

    /// - Parameters:
    ///   - prompts: token ids per prompt with BOS first (see `tokenize`); prompts with no
    ///     token after BOS are ignored.
    ///   - blockTokens: samples per block (reduced so a block stays under
    ///     `TrainingConstants.maxBufferBytes`).
    public init(model: Transformer, prompts: [[Int]], inputHook: TranscoderConfig.InputHook, blockTokens: Int, seed: UInt64) {
        self.model = model
        self.inputHook = inputHook
        self.prompts = prompts.filter { $0.count > 1 }
        self.nLayers = model.config.nLayers
        self.dModel = model.config.dModel
        let bytesPerSample = 2 * model.config.nLayers * model.config.dModel * MemoryLayout<Float>.size
        self.blockTokens = max(1, min(blockTokens, TrainingConstants.maxBufferBytes / bytesPerSample))
        self.corpusTokens = self.prompts.reduce(0) { $0 + $1.count - 1 }
        self.seed = seed
        self.block = []
        self.position.block = 0
    }

    /// Token ids of every prompt of `corpus` as circuit-tracer attributes them (BOS prepended),
    /// cut to `maxTokens`. Prompts that fail to tokenize are skipped and counted.
    public static func tokenize(_ corpus: Corpus, tokenizer: Tokenizer, maxTokens: Int, nVocab: Int) -> (prompts: [[Int]], skipped: Int) {
        var out: [[Int]] = [], skipped = 0
        for item in corpus.prompts {
            guard let ids = try? tokenizer.attributedIds(for: item.text), ids.count > 1, ids.allSatisfy({ $0 >= 0 && $0 < nVocab }) else {
                skipped += 1
                continue
            }
            out.append(Array(ids.prefix(maxTokens)))
        }
        return (out, skipped + corpus.invalid.count)
    }

    /// The transcoder inputs and MLP outputs of one prompt's forward pass, for its non-BOS
    /// tokens: `x` and `y` `[nPos − 1, nLayers·dModel]` (layer `l` in columns `l·dModel ..< (l+1)·dModel`).
    public func activations(of tokens: [Int]) throws -> (x: [Float], y: [Float]) {
        try ActivationStream.activations(model: model, inputHook: inputHook, tokens: tokens)
    }

    static func activations(model: Transformer, inputHook: TranscoderConfig.InputHook, tokens: [Int]) throws -> (x: [Float], y: [Float]) {
        let rec = try model.forward(tokens: tokens)
        let n = tokens.count - 1, d = model.config.dModel, L = model.config.nLayers
        var x = [Float](repeating: 0, count: n * L * d), y = x
        x.withUnsafeMutableBufferPointer { X in
            y.withUnsafeMutableBufferPointer { Y in
                for l in 0..<L {
                    let input = ActivationStream.input(of: rec, layer: l, hook: inputHook)
                    input.withUnsafeBufferPointer { I in
                        rec.mlpOut[l].withUnsafeBufferPointer { O in
                            for t in 0..<n {
                                (X.baseAddress! + (t * L + l) * d).update(from: I.baseAddress! + (t + 1) * d, count: d)
                                (Y.baseAddress! + (t * L + l) * d).update(from: O.baseAddress! + (t + 1) * d, count: d)
                            }
                        }
                    }
                }
            }
        }
        return (x, y)
    }

    /// The transcoder input of layer `l` in a forward record, `[nPos, dModel]`.
    static func input(of rec: ForwardRecord, layer l: Int, hook: TranscoderConfig.InputHook) -> [Float] {
        switch hook {
        case .residMid: rec.residMid[l]
        case .ln2Normalized: rec.ln2Normalized[l]
        case .mlpIn: rec.mlpIn[l]
        }
    }

    /// Rows (tokens) per packed forward pass when gathering a block: enough for the GEMMs to
    /// run near their peak rate on the bundled model, small enough that a record stays a few MB.
    static let packedRows = 512

    /// Copies the next `count` samples into `x` and `y` (`[count, nLayers·dModel]` each),
    /// gathering new blocks as needed.
    public func nextBatch(x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) throws {
        let w = nLayers * dModel
        for r in 0..<count {
            if order.isEmpty || position.served == filled {
                if !order.isEmpty { position.block += 1 }
                try gather(startPrompt: order.isEmpty ? position.startPrompt : nextPrompt,
                           startToken: order.isEmpty ? position.startToken : nextToken,
                           epoch: order.isEmpty ? position.epoch : nextEpoch)
            }
            let s = order[position.served]
            block.withUnsafeBufferPointer { b in
                (x + r * w).update(from: b.baseAddress! + s * 2 * w, count: w)
                (y + r * w).update(from: b.baseAddress! + s * 2 * w + w, count: w)
            }
            position.served += 1
        }
    }

    /// Continues from a checkpointed position: re-gathers that block and skips what was served.
    public func restore(_ saved: Position) throws {
        position = saved
        try gather(startPrompt: saved.startPrompt, startToken: saved.startToken, epoch: saved.epoch)
        position.served = saved.served
    }

    /// Fills the block from (`startPrompt`, `startToken`) onward and draws its permutation.
    private func gather(startPrompt: Int, startToken: Int, epoch: Int) throws {
        guard !prompts.isEmpty else { throw TrainingError.emptyCorpus("", reason: "no prompt has a token after BOS") }
        let w = sampleWidth, half = nLayers * dModel
        if block.count != blockTokens * w { block = [Float](repeating: 0, count: blockTokens * w) }
        position.startPrompt = startPrompt
        position.startToken = startToken
        position.epoch = epoch
        position.served = 0
        // Plan the block: which tokens of which prompts land where (bookkeeping only) …
        var slices: [(prompt: Int, from: Int, take: Int, at: Int)] = []
        var p = startPrompt, t = startToken, e = epoch
        filled = 0
        while filled < blockTokens {
            let n = prompts[p].count - 1
            let take = min(n - t, blockTokens - filled)
            slices.append((p, t, take, filled))
            filled += take
            t += take
            if t == n {
                t = 0
                p += 1
                if p == prompts.count { p = 0; e += 1 }
            }
        }
        // … then run the forward passes on every core, each with single-threaded BLAS (one level
        // of parallelism). Prompts go through the model packed by consecutive slices, about
        // `ActivationStream.packedRows` rows a pass, so that the projections and MLPs are GEMMs
        // over hundreds of rows instead of one short prompt's. The packs depend on the plan only
        // and each writes only its own rows, so the block does not depend on the thread count.
        var packs: [Range<Int>] = [], first = 0, rows = 0
        for (s, slice) in slices.enumerated() {
            rows += prompts[slice.prompt].count
            if rows >= ActivationStream.packedRows || s == slices.count - 1 { packs.append(first..<(s + 1)); first = s + 1; rows = 0 }
        }
        let blas = blasThreads
        setBLASThreads(1)
        defer { setBLASThreads(blas) }
        let model = self.model, hook = inputHook, prompts = self.prompts, plan = slices, groups = packs, dModel = self.dModel
        let workers = max(1, min(packs.count, ProcessInfo.processInfo.activeProcessorCount))
        let failure = FirstError()
        block.withUnsafeMutableBufferPointer { b in
            let out = SharedPointer(pointer: b.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for g in stride(from: worker, to: groups.count, by: workers) {
                    let group = plan[groups[g]]
                    do {
                        let rec = try model.forward(packed: group.map { prompts[$0.prompt] })
                        var row = 0  // first row of the slice's prompt in the packed record
                        for slice in group {
                            // x, y of token `slice.from + j` (non-BOS) are rows `row + 1 + slice.from + j`
                            for l in 0..<model.config.nLayers {
                                let input = ActivationStream.input(of: rec, layer: l, hook: hook)
                                input.withUnsafeBufferPointer { I in
                                    rec.mlpOut[l].withUnsafeBufferPointer { O in
                                        for j in 0..<slice.take {
                                            let src = (row + 1 + slice.from + j) * dModel
                                            let dst = out.pointer + (slice.at + j) * w + l * dModel
                                            dst.update(from: I.baseAddress! + src, count: dModel)
                                            (dst + half).update(from: O.baseAddress! + src, count: dModel)
                                        }
                                    }
                                }
                            }
                            row += prompts[slice.prompt].count
                        }
                    } catch {
                        failure.record(error)
                    }
                }
            }
        }
        if let error = failure.error { throw error }
        nextPrompt = p; nextToken = t; nextEpoch = e
        // Fisher–Yates with a generator seeded by (seed, block number).
        var rng = SeededRandom(seed: seed ^ (UInt64(position.block) &* 0xD1B5_4A32_D192_ED03) ^ 0x5EED_B10C)
        order = Array(0..<filled)
        if filled > 1 {
            for i in stride(from: filled - 1, to: 0, by: -1) { order.swapAt(i, rng.below(i + 1)) }
        }
    }
}

/// The block's storage, shared by the gathering workers; each writes only its own rows.
private struct SharedPointer: @unchecked Sendable { let pointer: UnsafeMutablePointer<Float> }

/// The first error thrown by any worker.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
