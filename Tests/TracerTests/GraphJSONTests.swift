import Foundation
import Testing
import TestSupport
@testable import Tracer

// GraphJSON against circuit-tracer 0.5.0's `create_graph_files` output of every reference run
// (`<run>/frontend/<slug>.json`, `graph-metadata.json`), fed with the golden graph and prune
// result. The only expected difference is the error node id (`L_-1_P` here, `0_L_P` there).

/// Runs whose goldens include the frontend files.
private let frontendRuns = referenceRuns().filter { $0.frontendGraphFile != nil }

/// The metadata `make_cases.py` passed: slug = case name (variants: `<case>-<variant folder>`),
/// scan from the transcoder config, prompt = the decoded prompt with BOS (these word-level
/// tokenizers decode by joining tokens with a space), node threshold from the manifest.
private func referenceMetadata(_ run: ReferenceRun, _ graph: AttributionGraph) throws -> GraphJSONMetadata {
    let slug = run.runName == "outputs" ? run.caseName : "\(run.caseName)-\(run.runName)"
    let scan = try #require(run.transcoderScan, "\(run): no scan in transcoders/config.yaml")
    let prune = run.results["prune"] as? [String: Any]
    let threshold = try #require(prune?["node_threshold"] as? Double, "\(run): no prune.node_threshold in the manifest")
    return GraphJSONMetadata(slug: slug, scan: scan, prompt: graph.tokenStrings.joined(separator: " "), nodeThreshold: threshold)
}

/// 0.5.0's error node id for one of ours: `L_-1_P` -> `0_L_P`; every other id is unchanged.
private func legacyIDs(_ document: FrontendGraph) -> [String: String] {
    var map: [String: String] = [:]
    for node in document.nodes {
        map[node.nodeId] = node.featureType == GraphJSON.errorType ? "0_\(node.layer)_\(node.ctxIdx)" : node.nodeId
    }
    return map
}

/// `document` with error node ids in 0.5.0's form: what circuit-tracer 0.5.0 would write.
private func legacy(_ document: FrontendGraph) -> FrontendGraph {
    let map = legacyIDs(document)
    var out = document
    for i in out.nodes.indices { out.nodes[i].nodeId = map[out.nodes[i].nodeId]! }
    for i in out.links.indices {
        out.links[i].source = map[out.links[i].source]!
        out.links[i].target = map[out.links[i].target]!
    }
    return out
}

private func close(_ a: Double?, _ b: Double?, relative: Double = 1e-6) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a - b) <= relative * max(abs(a), abs(b))
}

private func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

@Suite struct GraphJSONTests {
    @Test(arguments: frontendRuns)
    func matchesReferenceDocument(_ run: ReferenceRun) throws {
        let (graph, pruning) = try goldenGraph(run)
        let metadata = try referenceMetadata(run, graph)
        let referenceURL = try #require(run.frontendGraphFile)
        #expect(referenceURL.lastPathComponent == metadata.slug + ".json", "\(run): slug")

        let ours = try FrontendGraph.decode(try GraphJSON.encode(graph, pruning: pruning, metadata: metadata))
        let reference = try FrontendGraph(contentsOf: referenceURL)

        // Our ids are unique; the error ids are the only ones that differ.
        let ids = ours.nodes.map(\.nodeId)
        #expect(Set(ids).count == ids.count, "\(run): duplicate node ids")
        let mappedReference = Set(reference.nodes.map {
            $0.featureType == GraphJSON.errorType ? "\($0.layer)_-1_\($0.ctxIdx)" : $0.nodeId
        })
        #expect(Set(ids) == mappedReference, "\(run): node sets differ")

        // Nodes: same order, same fields.
        let map = legacyIDs(ours)
        #expect(ours.nodes.count == reference.nodes.count, "\(run): node count")
        for (o, r) in zip(ours.nodes, reference.nodes) {
            let what = "\(run): node \(o.nodeId)"
            #expect(map[o.nodeId] == r.nodeId, "\(what) vs \(r.nodeId)")
            #expect(o.feature == r.feature && o.layer == r.layer && o.ctxIdx == r.ctxIdx, "\(what): feature/layer/ctx_idx")
            #expect(o.featureType == r.featureType && o.jsNodeId == r.jsNodeId && o.clerp == r.clerp, "\(what): type/jsNodeId/clerp")
            #expect(o.isTargetLogit == r.isTargetLogit && o.runIdx == r.runIdx && o.reverseCtxIdx == r.reverseCtxIdx, "\(what): flags")
            #expect(close(o.tokenProb, r.tokenProb), "\(what): token_prob \(o.tokenProb) vs \(r.tokenProb)")
            #expect(close(o.influence, r.influence), "\(what): influence \(String(describing: o.influence)) vs \(String(describing: r.influence))")
            #expect(close(o.activation, r.activation), "\(what): activation \(String(describing: o.activation)) vs \(String(describing: r.activation))")
        }

        // Links: same order, same ends, same weights.
        #expect(ours.links.count == reference.links.count, "\(run): link count")
        for (o, r) in zip(ours.links, reference.links) {
            #expect(map[o.source] == r.source && map[o.target] == r.target, "\(run): link \(o.source) -> \(o.target) vs \(r.source) -> \(r.target)")
            #expect(close(o.weight, r.weight), "\(run): link \(o.source) -> \(o.target) weight \(o.weight) vs \(r.weight)")
        }

        #expect(ours.metadata == reference.metadata, "\(run): metadata")
        #expect(ours.qParams == reference.qParams, "\(run): qParams")
    }

    /// With 0.5.0's error ids put back, the document is the reference file byte for byte:
    /// key order, indentation and float formatting included.
    @Test(arguments: frontendRuns)
    func reproducesReferenceBytes(_ run: ReferenceRun) throws {
        let (graph, pruning) = try goldenGraph(run)
        let document = try GraphJSON.document(graph, pruning: pruning, metadata: try referenceMetadata(run, graph))
        let reference = try Data(contentsOf: try #require(run.frontendGraphFile))
        let ours = GraphJSON.encode(legacy(document))
        #expect(ours == reference, "\(run): bytes differ (\(ours.count) vs \(reference.count))")
    }

    /// `writeFiles` into a fresh folder writes the reference `graph-metadata.json`; into a folder
    /// holding other graphs it replaces the entry of the same slug, appends it last and keeps the
    /// rest (unknown keys, key order, floats) as Python's `json.load` + `json.dump` would.
    @Test(arguments: frontendRuns)
    func writesGraphMetadata(_ run: ReferenceRun) throws {
        let (graph, pruning) = try goldenGraph(run)
        let metadata = try referenceMetadata(run, graph)
        let referenceIndex = run.outputs.appendingPathComponent("frontend/graph-metadata.json")
        let referenceText = text(try Data(contentsOf: referenceIndex))

        let scratch = try ScratchFolder("graphjson")
        defer { scratch.remove() }
        let fresh = scratch.file("new/frontend")
        let graphURL = try GraphJSON.writeFiles(graph, pruning: pruning, metadata: metadata, to: fresh)
        #expect(graphURL.lastPathComponent == metadata.slug + ".json")
        #expect(try FrontendGraph(contentsOf: graphURL) == GraphJSON.document(graph, pruning: pruning, metadata: metadata))
        let written = fresh.appendingPathComponent("graph-metadata.json")
        #expect(text(try Data(contentsOf: written)) == referenceText, "\(run): fresh graph-metadata.json")
        #expect(try FrontendGraphIndex(contentsOf: written).graphs == [GraphJSON.graphMetadataEntry(graph, metadata: metadata)])

        // A folder that already indexes another graph and an older version of this one.
        let existing = """
        {"graphs": [{"slug": "other", "scan": "s", "prompt": "café 😀 \u{7F}\\n", \
        "extra": {"b": 1, "a": [1.5, 0.00001, 2]}, "node_threshold": 1e-7},
        {"slug": "\(metadata.slug)", "scan": "old"}], "zz": true}
        """
        try Data(existing.utf8).write(to: written)
        try GraphJSON.writeFiles(graph, pruning: pruning, metadata: metadata, to: fresh)
        // The reference file is `{"graphs": [<entry>]}`: cut its entry out, as indented text.
        let entry = referenceText.dropFirst("{\n  \"graphs\": [\n".count).dropLast("\n  ]\n}".count)
        let expected = """
        {
          "graphs": [
            {
              "slug": "other",
              "scan": "s",
              "prompt": "caf\\u00e9 \\ud83d\\ude00 \\u007f\\n",
              "extra": {
                "b": 1,
                "a": [
                  1.5,
                  1e-05,
                  2
                ]
              },
              "node_threshold": 1e-07
            },
        \(entry)
          ],
          "zz": true
        }
        """
        #expect(text(try Data(contentsOf: written)) == expected, "\(run): updated graph-metadata.json")
        // Writing the same graph again changes nothing.
        try GraphJSON.writeFiles(graph, pruning: pruning, metadata: metadata, to: fresh)
        #expect(text(try Data(contentsOf: written)) == expected)
    }

    /// A layer-0 feature whose index equals an error node's layer at the same position: 0.5.0
    /// names both `0_0_1`; here the error node is `0_-1_1`.
    @Test func errorNodeIDsAreUnique() throws {
        // nLayers 1, nPos 2, one feature (0, 1, 0), one logit. Nodes: f, e(0,0), e(0,1), t0, t1, logit.
        let layout = NodeLayout(nFeatures: 1, nLayers: 1, nPos: 2, nLogits: 1), n = layout.count
        var adjacency = [Float](repeating: 0, count: n * n)
        adjacency[0 * n + 4] = 1.5     // t1 -> f
        adjacency[5 * n + 0] = -0.25   // f -> logit
        adjacency[5 * n + 2] = 0.125   // e(0,1) -> logit
        let graph = AttributionGraph(
            inputTokens: [9, 3], tokenStrings: ["<bos>", "a\"b"],
            activeFeatures: [ActiveFeature(layer: 0, pos: 1, index: 0)], activationValues: [2],
            selectedFeatures: [0], logitTargets: [LogitTarget(tokenId: 7, token: "x", probability: 0.75)],
            nLayers: 1, adjacency: try Adjacency(dense: adjacency, layout: layout, fill: 0))
        let pruning = PruneResult(
            nodeMask: [true, true, true, true, true, true],
            edgeMask: try EdgeMask(dense: adjacency.map { $0 != 0 }, layout: layout, fill: false),
            cumulativeScores: [0.5, 0.5625, 0.625, 0.75, 0.875, 1.0], nodeInfluence: [Float](repeating: 0, count: n))
        let metadata = GraphJSONMetadata(slug: "tiny", scan: "test/scan", prompt: "<bos> a\"b", nodeThreshold: 0.8)
        let document = try GraphJSON.document(graph, pruning: pruning, metadata: metadata)

        // e(0,0) has no written link and is dropped; tokens and logits are always written.
        #expect(document.nodes.map(\.nodeId) == ["0_0_1", "0_-1_1", "E_9_0", "E_3_1", "2_7_1"])
        #expect(document.nodes.map(\.jsNodeId) == ["0_0-0", "0_1-0", "E_9-0", "E_3-1", "L_7-1"])
        #expect(document.nodes.map(\.featureType) == [GraphJSON.featureType, GraphJSON.errorType, GraphJSON.embeddingType,
                                                     GraphJSON.embeddingType, GraphJSON.logitType])
        #expect(document.nodes.map(\.influence) == [0.5, 0.625, 0.75, 0.875, nil])
        #expect(document.nodes.map(\.activation) == [2, nil, nil, nil, nil])
        #expect(document.nodes.map(\.feature) == [0, -1, 0, 1, 7])
        let logit = try #require(document.nodes.last)
        #expect(logit.clerp == "Output \"x\" (p=0.750)" && logit.isTargetLogit && logit.tokenProb == 0.75)
        #expect(document.links == [FrontendLink(source: "E_3_1", target: "0_0_1", weight: 1.5),
                                   FrontendLink(source: "0_0_1", target: "2_7_1", weight: -0.25),
                                   FrontendLink(source: "0_-1_1", target: "2_7_1", weight: 0.125)])
        #expect(document.metadata.promptTokens == ["<bos>", "a\"b"])
        #expect(try FrontendGraph.decode(GraphJSON.encode(document)) == document)
    }

    @Test func rejectsMismatchedPruning() throws {
        let graph = AttributionGraph(inputTokens: [1], tokenStrings: ["a"], activeFeatures: [], activationValues: [],
                                     selectedFeatures: [], logitTargets: [], nLayers: 1,
                                     adjacency: Adjacency(layout: NodeLayout(nFeatures: 0, nLayers: 1, nPos: 1, nLogits: 0)))
        let other = NodeLayout(nFeatures: 0, nLayers: 0, nPos: 1, nLogits: 0)
        let pruning = PruneResult(nodeMask: [true], edgeMask: EdgeMask(layout: other, fill: false), cumulativeScores: [1], nodeInfluence: [0])
        let metadata = GraphJSONMetadata(slug: "x", scan: "s", prompt: "a", nodeThreshold: 0.8)
        #expect(throws: TracerError.self) { try GraphJSON.document(graph, pruning: pruning, metadata: metadata) }
        let good = PruneResult(nodeMask: [true, true], edgeMask: EdgeMask(layout: graph.layout, fill: false), cumulativeScores: [1, 1], nodeInfluence: [0, 0])
        let scratch = try ScratchFolder("graphjson"), folder = scratch.url
        defer { scratch.remove() }
        var slashed = metadata
        slashed.slug = "a/b"
        #expect(throws: TracerError.self) { try GraphJSON.writeFiles(graph, pruning: good, metadata: slashed, to: folder) }
        try Data("[1]".utf8).write(to: folder.appendingPathComponent("graph-metadata.json"))
        #expect(throws: TracerError.self) { try GraphJSON.writeFiles(graph, pruning: good, metadata: metadata, to: folder) }
    }

    /// Float text as pydantic 2.13.4 (`model_dump_json`) and CPython 3.11 (`json.dumps`) print it.
    @Test(arguments: [
        (1e-5, "0.00001", "1e-05"), (1e-6, "1e-6", "1e-06"), (1e-4, "0.0001", "0.0001"),
        (1.5e-7, "1.5e-7", "1.5e-07"), (-3.2e-5, "-0.000032", "-3.2e-05"), (9.99e-5, "0.0000999", "9.99e-05"),
        (1e15, "1000000000000000.0", "1000000000000000.0"), (1e16, "1e+16", "1e+16"), (1.5e16, "1.5e+16", "1.5e+16"),
        (123456789.0, "123456789.0", "123456789.0"), (1.2345678901234568e17, "1.2345678901234568e+17", "1.2345678901234568e+17"),
        (1e-300, "1e-300", "1e-300"), (1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"),
        (0.0, "0.0", "0.0"), (-0.0, "-0.0", "-0.0"), (1.0, "1.0", "1.0"), (0.1, "0.1", "0.1"), (0.8, "0.8", "0.8"),
        (Double(Float(0.684872031211853)), "0.684872031211853", "0.684872031211853"),
        (Double.leastNonzeroMagnitude, "5e-324", "5e-324"), (Double.nan, "null", "NaN"), (-Double.infinity, "null", "-Infinity"),
    ] as [(Double, String, String)])
    func formatsFloats(_ value: Double, _ pydantic: String, _ python: String) {
        #expect(JSONValue.formatDouble(value, .pydantic) == pydantic, "pydantic \(value)")
        #expect(JSONValue.formatDouble(value, .python) == python, "python \(value)")
    }

    @Test func escapesStrings() throws {
        let s = JSONValue.string("a\"b\\c\n\t\u{01}\u{1F}\u{0B}\u{08}\u{0C}\r\u{7F} é ☃ 😀 /")
        #expect(s.rendered(.pydantic) == "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u000b\\b\\f\\r\u{7F} é ☃ 😀 /\"")
        #expect(s.rendered(.python) == "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\\u000b\\b\\f\\r\\u007f \\u00e9 \\u2603 \\ud83d\\ude00 /\"")
        #expect(try JSONValue.parse(Data(s.rendered(.python).utf8)) == s)
        #expect(try JSONValue.parse(Data(s.rendered(.pydantic).utf8)) == s)
    }
}
