import Foundation
import Testing
import TestSupport
@testable import Tracer

/// From the prompt text to graph JSON, as `circuits trace` runs it, against circuit-tracer's
/// frontend files: same nodes, same links (up to the error-id fix), weights within round-off.
@Suite struct TraceEndToEndTests {
    @Test(arguments: referenceRuns().filter { $0.frontendGraphFile != nil })
    func promptToGraphJSON(run: ReferenceRun) throws {
        let session = try TraceSession(modelDirectory: run.modelDir, transcoderDirectory: run.transcoderDir)
        let tokens = try session.tokens(for: run.prompt)
        #expect(tokens == (try run.array("input_tokens").ints), "\(run): tokenization")
        let result = try session.trace(tokens: tokens, options: run.attributionOptions)
        let reference = try JSONDecoder().decode(FrontendGraph.self, from: Data(contentsOf: try #require(run.frontendGraphFile)))
        let metadata = GraphJSONMetadata(slug: reference.metadata.slug, scan: run.transcoderScan ?? "",
                                         prompt: session.tokenizer.decode(tokens), nodeThreshold: 0.8)
        let ours = try JSONDecoder().decode(FrontendGraph.self, from: GraphJSON.encode(result.graph, pruning: result.pruning, metadata: metadata))

        // circuit-tracer 0.5.0 named error nodes 0_{layer}_{pos}; we write {layer}_-1_{pos}.
        func upstreamID(_ node: FrontendNode) -> String {
            node.featureType == GraphJSON.errorType ? "0_\(node.layer)_\(node.ctxIdx)" : node.nodeId
        }
        let ourIDs = Dictionary(ours.nodes.map { ($0.nodeId, upstreamID($0)) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(ours.nodes.map(upstreamID)) == Set(reference.nodes.map(\.nodeId)), "\(run): node sets differ")
        #expect(Set(ours.nodes.map(\.nodeId)).count == ours.nodes.count, "\(run): node ids are not unique")
        #expect(ours.metadata.promptTokens == reference.metadata.promptTokens, "\(run): prompt tokens")
        var refLinks: [String: Double] = [:]
        for l in reference.links { refLinks["\(l.source)→\(l.target)"] = l.weight }
        #expect(ours.links.count == reference.links.count, "\(run): \(ours.links.count) links vs \(reference.links.count)")
        let maxWeight = reference.links.map { abs($0.weight) }.max() ?? 0
        for l in ours.links {
            let key = "\(ourIDs[l.source] ?? l.source)→\(ourIDs[l.target] ?? l.target)"
            guard let w = refLinks[key] else { Issue.record("\(run): link \(key) not in the reference"); continue }
            #expect(abs(l.weight - w) <= 5e-6 * maxWeight + 1e-3 * abs(w), "\(run): link \(key) weight \(l.weight) vs \(w)")
        }
    }
}
