import Foundation
import Storage

/// `graph.h5`: one traced prompt, with datasets named exactly like circuit-tracer's arrays
/// (`adjacency_matrix`, `active_features`, `prune/node_mask`, …) so the reference tooling and
/// `h5py` read it directly.
///
/// Layout (N nodes in `NodeLayout` order):
/// - `adjacency_matrix` f32 [N, N] (A[target, source]); `input_tokens` i64 [nPos];
///   `active_features` i64 [nActive, 3]; `activation_values` f32 [nActive];
///   `selected_features` i64 [nFeatures]; `logit_token_ids` i64 [nLogits];
///   `logit_probabilities` f32 [nLogits]; `token_strings`, `logit_tokens` (UTF-8 strings);
/// - `prune/node_mask` bool [N]; `prune/edge_mask` bool [N, N]; `prune/node_influence` f32 [N];
///   `prune/cumulative_scores` f32 [N];
/// - root attributes `replacement_score`, `completeness_score`, `prompt`, `n_layers`,
///   `node_threshold`, `edge_threshold`, `format_version`, and `timing_<phase>_s`.
///
/// The two `[N, N]` datasets are chunked by rows and written a block of rows at a time from the
/// stored rows (`TargetRows`), so writing never holds N² entries; error and token rows are
/// written as their fill value.
public enum GraphFile {
    public static let formatVersion = 1

    /// Writes `result` to `url`, through a temporary file renamed over it on success
    /// (`AtomicFile`): an existing `url` is replaced in one step, or kept when writing fails.
    public static func write(_ result: TraceResult, prompt: String, to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            if FileManager.default.fileExists(atPath: folder.path) {
                throw TracerError.invalidArgument("cannot write \(url.path): \(folder.path) is a file, not a folder")
            }
            throw TracerError.fileNotFound(folder.path, what: "output folder")
        }
        let g = result.graph, n = g.layout.count
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            let big: Int? = n * n > 1 << 16 ? 4 : nil
            try writeRows(g.adjacency, at: "adjacency_matrix", compression: big,
                          create: { try f.createExtendable(Float.self, at: $0, rowShape: [n], chunkRows: $1, compression: $2) },
                          append: { try f.append($0, at: $1) })
            try f.write(g.inputTokens.map(Int64.init), shape: [g.inputTokens.count], at: "input_tokens")
            try f.write(g.activeFeatures.flatMap { [Int64($0.layer), Int64($0.pos), Int64($0.index)] },
                        shape: [g.activeFeatures.count, 3], at: "active_features")
            try f.write(g.activationValues, shape: [g.activationValues.count], at: "activation_values")
            try f.write(g.selectedFeatures.map(Int64.init), shape: [g.selectedFeatures.count], at: "selected_features")
            try f.write(g.logitTargets.map { Int64($0.tokenId) }, shape: [g.logitTargets.count], at: "logit_token_ids")
            try f.write(g.logitProbabilities, shape: [g.logitTargets.count], at: "logit_probabilities")
            try f.writeStrings(g.tokenStrings, at: "token_strings")
            try f.writeStrings(g.logitTargets.map(\.token), at: "logit_tokens")
            let p = result.pruning
            try f.writeBools(p.nodeMask, shape: [n], at: "prune/node_mask")
            try writeRows(p.edgeMask, at: "prune/edge_mask", compression: big,
                          create: { try f.createExtendableBools(at: $0, rowShape: [n], chunkRows: $1, compression: $2) },
                          append: { try f.appendBools($0, at: $1) })
            try f.write(p.nodeInfluence, shape: [n], at: "prune/node_influence")
            try f.write(p.cumulativeScores, shape: [n], at: "prune/cumulative_scores")
            try f.setAttribute("replacement_score", result.scores.replacement)
            try f.setAttribute("completeness_score", result.scores.completeness)
            try f.setAttribute("prompt", prompt)
            try f.setAttribute("n_layers", Int64(g.nLayers))
            try f.setAttribute("node_threshold", result.nodeThreshold)
            try f.setAttribute("edge_threshold", result.edgeThreshold)
            try f.setAttribute("format_version", Int64(formatVersion))
            let t = result.timings
            for (name, v) in [("forward", t.forward), ("transcoders", t.transcoders), ("logit_rows", t.logitRows),
                              ("feature_rows", t.featureRows), ("pruning", t.pruning)] {
                try f.setAttribute("timing_\(name)_s", v)
            }
        }
    }

    /// Reads a `graph.h5` back: the graph, its pruning, scores and prompt.
    public static func read(_ url: URL) throws -> (result: TraceResult, prompt: String) {
        let f = try HDF5File.open(url)
        defer { f.close() }
        let tokens = try f.read(Int64.self, at: "input_tokens").values.map(Int.init)
        let af = try f.read(Int64.self, at: "active_features").values.map(Int.init)
        let ids = try f.read(Int64.self, at: "logit_token_ids").values.map(Int.init)
        let probs = try f.read(Float.self, at: "logit_probabilities").values
        let logitTokens = try f.readStrings(at: "logit_tokens")
        let selected = try f.read(Int64.self, at: "selected_features").values.map(Int.init)
        let nLayers = Int(try f.attribute("n_layers", as: Int64.self))
        let layout = NodeLayout(nFeatures: selected.count, nLayers: nLayers, nPos: tokens.count, nLogits: ids.count)
        let graph = AttributionGraph(
            inputTokens: tokens, tokenStrings: try f.readStrings(at: "token_strings"),
            activeFeatures: stride(from: 0, to: af.count, by: 3).map { ActiveFeature(layer: af[$0], pos: af[$0 + 1], index: af[$0 + 2]) },
            activationValues: try f.read(Float.self, at: "activation_values").values,
            selectedFeatures: selected,
            logitTargets: ids.indices.map { LogitTarget(tokenId: ids[$0], token: logitTokens[$0], probability: probs[$0]) },
            nLayers: nLayers,
            adjacency: try readRows(try f.read(Float.self, at: "adjacency_matrix").values, layout: layout, "adjacency_matrix", url))
        let pruning = PruneResult(nodeMask: try f.readBools(at: "prune/node_mask").values,
                                  edgeMask: try readRows(try f.readBools(at: "prune/edge_mask").values, layout: layout, "prune/edge_mask", url),
                                  cumulativeScores: try f.read(Float.self, at: "prune/cumulative_scores").values,
                                  nodeInfluence: try f.read(Float.self, at: "prune/node_influence").values)
        var timings = PhaseTimings()
        timings.forward = (try? f.attribute("timing_forward_s", as: Double.self)) ?? 0
        timings.transcoders = (try? f.attribute("timing_transcoders_s", as: Double.self)) ?? 0
        timings.logitRows = (try? f.attribute("timing_logit_rows_s", as: Double.self)) ?? 0
        timings.featureRows = (try? f.attribute("timing_feature_rows_s", as: Double.self)) ?? 0
        timings.pruning = (try? f.attribute("timing_pruning_s", as: Double.self)) ?? 0
        let result = TraceResult(graph: graph, pruning: pruning,
                                 scores: GraphScores(replacement: try f.attribute("replacement_score", as: Double.self),
                                                     completeness: try f.attribute("completeness_score", as: Double.self)),
                                 timings: timings, nodeThreshold: try f.attribute("node_threshold", as: Double.self),
                                 edgeThreshold: try f.attribute("edge_threshold", as: Double.self))
        return (result, try f.stringAttribute("prompt"))
    }

    /// Writes the `[N, N]` matrix `m` as a row-chunked dataset, a block of rows at a time.
    private static func writeRows<E>(_ m: TargetRows<E>, at path: String, compression: Int?,
                                     create: (String, Int, Int?) throws -> Void,
                                     append: ([E], String) throws -> Void) throws {
        let n = m.layout.count
        let rows = max(1, min(n, (1 << 20) / max(n, 1)))      // about 1 Mi entries per block and chunk
        try create(path, rows, compression)
        var block = [E]()
        block.reserveCapacity(rows * n)
        for start in stride(from: 0, to: n, by: rows) {
            block.removeAll(keepingCapacity: true)
            for i in start..<min(start + rows, n) {
                if m.withRow(i, { block.append(contentsOf: $0) }) == nil {
                    block.append(contentsOf: repeatElement(m.fill, count: n))
                }
            }
            try append(block, path)
        }
    }

    /// The stored rows of a dense `[N, N]` dataset; its error and token rows must be uniform.
    private static func readRows<E>(_ dense: [E], layout: NodeLayout, _ path: String, _ url: URL) throws -> TargetRows<E> {
        let n = layout.count
        guard dense.count == n * n, n > 0 else {
            throw TracerError.invalidArgument("\(url.path): \(path) has \(dense.count) entries, expected N² = \(n * n) for N = \(n) nodes")
        }
        // Error and token rows hold one value (0 / false, or true when pruning kept every entry).
        let fill = dense[layout.errorRange.lowerBound * n]
        do { return try TargetRows(dense: dense, layout: layout, fill: fill) } catch let TracerError.invalidArgument(why) {
            throw TracerError.invalidArgument("\(url.path): \(path): \(why)")
        }
    }
}
