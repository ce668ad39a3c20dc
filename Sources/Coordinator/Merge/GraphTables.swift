import Foundation
import Shared
import Storage

/// Every prompt's pruned graph, concatenated: the `/graphs` group of `aggregate.h5`.
/// Offsets have one entry per prompt plus one (CSR style); failed prompts have empty ranges.
struct GraphTables {
    var nodeType: [Int8] = [], nodeLayer: [Int32] = [], nodePos: [Int32] = [], nodeFeature: [Int64] = []
    var nodeActivation: [Float] = [], nodeInfluence: [Float] = []
    var edgeSource: [Int32] = [], edgeTarget: [Int32] = [], edgeWeight: [Float] = []
    var inputTokens: [Int64] = [], tokenStrings: [String] = []
    var logitTokenIDs: [Int64] = [], logitProbabilities: [Float] = [], logitTokens: [String] = []
    var nodeOffset: [Int64] = [0], edgeOffset: [Int64] = [0], tokenOffset: [Int64] = [0], logitOffset: [Int64] = [0]

    /// Closes the current prompt's ranges.
    mutating func endPrompt() {
        nodeOffset.append(Int64(nodeType.count)); edgeOffset.append(Int64(edgeSource.count))
        tokenOffset.append(Int64(inputTokens.count)); logitOffset.append(Int64(logitTokenIDs.count))
    }

    /// Appends the graph group `g` of shard `f`.
    mutating func append(group g: String, of f: HDF5File) throws {
        nodeType += try f.read(Int8.self, at: "\(g)/node_type").values
        nodeLayer += try f.read(Int32.self, at: "\(g)/node_layer").values
        nodePos += try f.read(Int32.self, at: "\(g)/node_pos").values
        nodeFeature += try f.read(Int64.self, at: "\(g)/node_feature").values
        nodeActivation += try f.read(Float.self, at: "\(g)/node_activation").values
        nodeInfluence += try f.read(Float.self, at: "\(g)/node_influence").values
        edgeSource += try f.read(Int32.self, at: "\(g)/edge_source").values
        edgeTarget += try f.read(Int32.self, at: "\(g)/edge_target").values
        edgeWeight += try f.read(Float.self, at: "\(g)/edge_weight").values
        inputTokens += try f.read(Int64.self, at: "\(g)/input_tokens").values
        tokenStrings += try f.readStrings(at: "\(g)/token_strings")
        logitTokenIDs += try f.read(Int64.self, at: "\(g)/logit_token_ids").values
        logitProbabilities += try f.read(Float.self, at: "\(g)/logit_probabilities").values
        logitTokens += try f.readStrings(at: "\(g)/logit_tokens")
    }

    func write(into f: HDF5File) throws {
        let g = "graphs"
        func z(_ n: Int) -> Int? { n > 1024 ? 4 : nil }
        try f.write(nodeType, shape: [nodeType.count], at: "\(g)/node_type", compression: z(nodeType.count))
        try f.write(nodeLayer, shape: [nodeLayer.count], at: "\(g)/node_layer", compression: z(nodeLayer.count))
        try f.write(nodePos, shape: [nodePos.count], at: "\(g)/node_pos", compression: z(nodePos.count))
        try f.write(nodeFeature, shape: [nodeFeature.count], at: "\(g)/node_feature", compression: z(nodeFeature.count))
        try f.write(nodeActivation, shape: [nodeActivation.count], at: "\(g)/node_activation", compression: z(nodeActivation.count))
        try f.write(nodeInfluence, shape: [nodeInfluence.count], at: "\(g)/node_influence", compression: z(nodeInfluence.count))
        try f.write(edgeSource, shape: [edgeSource.count], at: "\(g)/edge_source", compression: z(edgeSource.count))
        try f.write(edgeTarget, shape: [edgeTarget.count], at: "\(g)/edge_target", compression: z(edgeTarget.count))
        try f.write(edgeWeight, shape: [edgeWeight.count], at: "\(g)/edge_weight", compression: z(edgeWeight.count))
        try f.write(inputTokens, shape: [inputTokens.count], at: "\(g)/input_tokens", compression: z(inputTokens.count))
        try f.writeStrings(tokenStrings, at: "\(g)/token_strings")
        try f.write(logitTokenIDs, shape: [logitTokenIDs.count], at: "\(g)/logit_token_ids")
        try f.write(logitProbabilities, shape: [logitProbabilities.count], at: "\(g)/logit_probabilities")
        try f.writeStrings(logitTokens, at: "\(g)/logit_tokens")
        for (name, o) in [("node_offset", nodeOffset), ("edge_offset", edgeOffset), ("token_offset", tokenOffset), ("logit_offset", logitOffset)] {
            try f.write(o, shape: [o.count], at: "\(g)/\(name)")
        }
    }
}

extension PromptTable {
    /// Appends a failed prompt (no graph).
    mutating func appendFailed(id: String, prompt: String, reason: String, task: Int, graphs: inout GraphTables) {
        append(.failed(id: id, prompt: prompt, reason: reason, task: Int64(task)))
        graphs.endPrompt()
    }

    /// Appends every prompt of shard `f` (task `task`), and its graphs to `graphs`.
    mutating func append(shard f: HDF5File, task: Int, graphs: inout GraphTables) throws {
        let rows = try PromptTable(f)
        for k in 0..<rows.count {
            var row = rows[k]
            row.task = Int64(task)
            append(row)
            // Statistics-only jobs have traced prompts without graphs.
            let g = ShardSchema.graphGroupName(index: k)
            if row.status == 1 && f.exists(g) { try graphs.append(group: g, of: f) }
            graphs.endPrompt()
        }
    }
}
