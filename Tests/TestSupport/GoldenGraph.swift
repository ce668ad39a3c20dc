import Foundation
import Tracer

// The golden graph of a reference run, rebuilt from its .npy arrays: the input of every test
// that starts after attribution (pruning, scores, export) and wants circuit-tracer's exact
// adjacency rather than ours.

extension ReferenceRun {
    /// The decoded attributed tokens, BOS first: `tokens_attributed` of the case's
    /// `prompt_token_ids.json`.
    public func tokenStrings() throws -> [String] {
        let url = caseDir.appendingPathComponent("prompt_token_ids.json")
        guard let data = try? Data(contentsOf: url) else { throw TracerError.fileNotFound(url.path, what: "prompt token ids") }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard let tokens = object?["tokens_attributed"] as? [String] else {
            throw TracerError.malformedFile(url.path, "no \"tokens_attributed\" string list")
        }
        return tokens
    }

    /// The `<slug>.json` document `create_graph_files` wrote for this run (`frontend/`, the file
    /// that is not `graph-metadata.json`), or nil when the run has no frontend folder.
    public var frontendGraphFile: URL? {
        let dir = outputs.appendingPathComponent("frontend")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "graph-metadata.json" }.sorted().first
            .map { dir.appendingPathComponent($0) }
    }

    /// The `scan` field of the case's `transcoders/config.yaml`, or nil when absent.
    public var transcoderScan: String? {
        let url = transcoderDir.appendingPathComponent("config.yaml")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("scan:") {
            var value = line.dropFirst("scan:".count).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}

/// The golden attribution graph and prune result of `run`, built from its arrays:
/// `adjacency_matrix`, `input_tokens`, `active_features`, `activation_values`,
/// `selected_features`, `logit_token_ids`, `logit_probabilities` and `prune/node_mask`,
/// `prune/edge_mask`, `prune/cumulative_scores`, `prune/node_influence`. Token strings come from
/// the case's `prompt_token_ids.json`, logit token strings from the manifest's
/// `results.<run>.logit_targets[].token_str`; `nLayers` from the node count.
///
/// - Throws: a `TracerError` naming the file and the disagreement when arrays are missing or
///   their shapes do not fit together.
public func goldenGraph(_ run: ReferenceRun) throws -> (graph: AttributionGraph, pruning: PruneResult) {
    func bad(_ why: String) -> TracerError { .malformedFile(run.outputs.path, "\(run): \(why)") }

    let adjacency = try run.array("adjacency_matrix")
    let inputTokens = try run.array("input_tokens").ints
    let active = try run.array("active_features")
    let activationValues = try run.array("activation_values").floats
    let selected = try run.array("selected_features").ints
    let logitIds = try run.array("logit_token_ids").ints
    let logitProbabilities = try run.array("logit_probabilities").floats
    let tokenStrings = try run.tokenStrings()

    guard active.shape.count == 2, active.shape[1] == 3 else { throw bad("active_features has shape \(active.shape), expected [n, 3]") }
    let triples = active.ints
    let activeFeatures = stride(from: 0, to: triples.count, by: 3).map {
        ActiveFeature(layer: triples[$0], pos: triples[$0 + 1], index: triples[$0 + 2])
    }
    guard activationValues.count == activeFeatures.count else {
        throw bad("\(activationValues.count) activation values for \(activeFeatures.count) active features")
    }
    guard tokenStrings.count == inputTokens.count else {
        throw bad("prompt_token_ids.json has \(tokenStrings.count) tokens_attributed, input_tokens has \(inputTokens.count)")
    }

    let targets = run.results["logit_targets"] as? [[String: Any]] ?? []
    guard targets.count == logitIds.count, logitProbabilities.count == logitIds.count else {
        throw bad("manifest has \(targets.count) logit_targets, logit_token_ids \(logitIds.count), logit_probabilities \(logitProbabilities.count)")
    }
    var logitTargets: [LogitTarget] = []
    for (k, target) in targets.enumerated() {
        guard let token = target["token_str"] as? String, let vocab = target["vocab_idx"] as? Int, vocab == logitIds[k] else {
            throw bad("manifest logit_targets[\(k)] = \(target) does not match logit_token_ids[\(k)] = \(logitIds[k])")
        }
        logitTargets.append(LogitTarget(tokenId: vocab, token: token, probability: logitProbabilities[k]))
    }

    guard adjacency.shape.count == 2, adjacency.shape[0] == adjacency.shape[1] else {
        throw bad("adjacency_matrix has shape \(adjacency.shape), expected [N, N]")
    }
    let n = adjacency.shape[0]
    let nPos = inputTokens.count
    let errorNodes = n - selected.count - nPos - logitIds.count
    guard nPos > 0, errorNodes >= 0, errorNodes % nPos == 0 else {
        throw bad("N = \(n) does not split into \(selected.count) features + nLayers·\(nPos) errors + \(nPos) tokens + \(logitIds.count) logits")
    }

    let layout = NodeLayout(nFeatures: selected.count, nLayers: errorNodes / nPos, nPos: nPos, nLogits: logitIds.count)
    // The golden error and token rows must be empty: the row-sparse types reject them otherwise.
    let graph = AttributionGraph(
        inputTokens: inputTokens, tokenStrings: tokenStrings, activeFeatures: activeFeatures,
        activationValues: activationValues, selectedFeatures: selected, logitTargets: logitTargets,
        nLayers: errorNodes / nPos, adjacency: try Adjacency(dense: adjacency.floats, layout: layout, fill: 0))

    let edgeMask = try run.array("prune/edge_mask").bools
    guard edgeMask.count == n * n else { throw bad("prune/edge_mask has \(edgeMask.count) entries, expected \(n * n)") }
    let pruning = PruneResult(
        nodeMask: try run.array("prune/node_mask").bools,
        edgeMask: try EdgeMask(dense: edgeMask, layout: layout, fill: false),
        cumulativeScores: try run.array("prune/cumulative_scores").floats,
        nodeInfluence: try run.array("prune/node_influence").floats)
    for (name, count, expected) in [("node_mask", pruning.nodeMask.count, n),
                                    ("cumulative_scores", pruning.cumulativeScores.count, n),
                                    ("node_influence", pruning.nodeInfluence.count, n)] where count != expected {
        throw bad("prune/\(name) has \(count) entries, expected \(expected)")
    }
    return (graph, pruning)
}
