import Foundation
import Shared

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

/// One row per prompt: the `/prompts` group of `aggregate.h5`.
struct PromptRows {
    var id: [String] = [], prompt: [String] = [], status: [Int8] = [], reason: [String] = [], task: [Int64] = []
    var replacement: [Double] = [], completeness: [Double] = [], nTokens: [Int64] = [], nActive: [Int64] = []
    var nodes: [Int64] = [], edges: [Int64] = [], seconds: [Double] = []

    var count: Int { id.count }
    var doneCount: Int { status.reduce(0) { $0 + Int($1) } }

    mutating func appendFailed(id: String, prompt: String, reason: String, task: Int, graphs: inout GraphTables) {
        self.id.append(id); self.prompt.append(prompt); status.append(0); self.reason.append(reason); self.task.append(Int64(task))
        replacement.append(.nan); completeness.append(.nan); nTokens.append(0); nActive.append(0)
        nodes.append(0); edges.append(0); seconds.append(0)
        graphs.endPrompt()
    }

    /// Appends every prompt of shard `f` (task `task`), and its graphs to `graphs`.
    mutating func append(shard f: HDF5File, task: Int, graphs: inout GraphTables) throws {
        let p = ShardSchema.prompts
        let ids = try f.readStrings(at: "\(p)/id")
        let st = try f.read(Int8.self, at: "\(p)/status").values
        id += ids
        prompt += try f.readStrings(at: "\(p)/prompt")
        status += st
        reason += try f.readStrings(at: "\(p)/reason")
        self.task += Array(repeating: Int64(task), count: ids.count)
        replacement += try f.read(Double.self, at: "\(p)/replacement_score").values
        completeness += try f.read(Double.self, at: "\(p)/completeness_score").values
        nTokens += try f.read(Int64.self, at: "\(p)/n_tokens").values
        nActive += try f.read(Int64.self, at: "\(p)/n_active_features").values
        nodes += try f.read(Int64.self, at: "\(p)/n_pruned_nodes").values
        edges += try f.read(Int64.self, at: "\(p)/n_pruned_edges").values
        seconds += try f.read(Double.self, at: "\(p)/seconds").values
        for k in ids.indices {
            // Statistics-only jobs have traced prompts without graphs.
            let g = ShardSchema.graphGroupName(index: k)
            if st[k] == 1 && f.exists(g) { try graphs.append(group: g, of: f) }
            graphs.endPrompt()
        }
    }

    func write(into f: HDF5File, graphs: GraphTables) throws {
        let p = "prompts", n = count
        try f.writeStrings(id, at: "\(p)/id")
        try f.writeStrings(prompt, at: "\(p)/prompt")
        try f.write(status, shape: [n], at: "\(p)/status")
        try f.writeStrings(reason, at: "\(p)/reason")
        try f.write(task, shape: [n], at: "\(p)/task_id")
        try f.write(replacement, shape: [n], at: "\(p)/replacement_score")
        try f.write(completeness, shape: [n], at: "\(p)/completeness_score")
        try f.write(nTokens, shape: [n], at: "\(p)/n_tokens")
        try f.write(nActive, shape: [n], at: "\(p)/n_active_features")
        try f.write(nodes, shape: [n], at: "\(p)/n_pruned_nodes")
        try f.write(edges, shape: [n], at: "\(p)/n_pruned_edges")
        try f.write(seconds, shape: [n], at: "\(p)/seconds")
    }
}
