import Foundation
import Testing
import TestSupport
@testable import Tracer

// `GraphJSON.writeForViewer`: a stored graph document -> the folder circuit-tracer's local viewer
// serves (scripts/circuit_tracer_viewer_test.sh opens such a folder in the real viewer).

@Suite struct GraphJSONViewerTests {
    /// A one-feature graph's document (feature 0 of layer 0 at position 1), scan `test/scan`.
    private func storedDocument() throws -> FrontendGraph {
        let layout = NodeLayout(nFeatures: 1, nLayers: 1, nPos: 2, nLogits: 1), n = layout.count
        var adjacency = [Float](repeating: 0, count: n * n)
        adjacency[0 * n + 4] = 1.5     // t1 -> f
        adjacency[5 * n + 0] = -0.25   // f -> logit
        let graph = AttributionGraph(
            inputTokens: [9, 3], tokenStrings: ["<bos>", "a"],
            activeFeatures: [ActiveFeature(layer: 0, pos: 1, index: 0)], activationValues: [2],
            selectedFeatures: [0], logitTargets: [LogitTarget(tokenId: 7, token: "x", probability: 0.75)],
            nLayers: 1, adjacency: try Adjacency(dense: adjacency, layout: layout, fill: 0))
        let pruning = PruneResult(
            nodeMask: [Bool](repeating: true, count: n),
            edgeMask: try EdgeMask(dense: adjacency.map { $0 != 0 }, layout: layout, fill: false),
            cumulativeScores: [0.5, 0.5625, 0.625, 0.75, 0.875, 1.0], nodeInfluence: [Float](repeating: 0, count: n))
        let metadata = GraphJSONMetadata(slug: "p5", scan: "test/scan", prompt: "<bos> a", nodeThreshold: 0.8)
        return try GraphJSON.document(graph, pruning: pruning, metadata: metadata)
    }

    /// The written document is the stored one with the file's slug and the local scan, byte for
    /// byte as `encode` writes it; `graph-metadata.json` lists it; the stored scan is returned.
    @Test(arguments: [true, false])
    func writesTheViewerFolder(localFeatures: Bool) throws {
        let stored = try storedDocument()
        let scratch = try ScratchFolder("viewer")
        defer { scratch.remove() }
        let folder = scratch.file("export")
        let written = try GraphJSON.writeForViewer(GraphJSON.encode(stored), source: "test", slug: "two-hop",
                                                   localFeatures: localFeatures, to: folder)
        #expect(written.graph == folder.appendingPathComponent("two-hop.json"))
        #expect(written.storedScan == "test/scan")

        var expected = stored
        expected.metadata.slug = "two-hop"
        expected.metadata.scan = localFeatures ? "./data/features/test/scan" : "test/scan"
        #expect(try Data(contentsOf: written.graph) == GraphJSON.encode(expected))
        let index = try FrontendGraphIndex(contentsOf: folder.appendingPathComponent("graph-metadata.json"))
        #expect(index.graphs == [expected.metadata])

        // A second graph joins the index; re-exporting the first replaces its entry.
        try GraphJSON.writeForViewer(GraphJSON.encode(stored), source: "test", slug: "other", localFeatures: localFeatures, to: folder)
        try GraphJSON.writeForViewer(GraphJSON.encode(stored), source: "test", slug: "two-hop", localFeatures: localFeatures, to: folder)
        let slugs = try FrontendGraphIndex(contentsOf: folder.appendingPathComponent("graph-metadata.json")).graphs.map(\.slug)
        #expect(slugs == ["other", "two-hop"])
    }

    /// The feature file the viewer requests for a node lands where `circuits export` writes it:
    /// the viewer fetches `<scan>/<feature>.json` for a scan starting with `./`, relative to its
    /// page at the server root, and circuit-tracer's server answers `/data/<path>` from
    /// `data_dir/<path>`; `FeatureFilesExport` writes `features/<stored scan>/<feature>.json`.
    @Test func localScanResolvesToTheFeatureFolder() throws {
        let stored = try storedDocument()
        let feature = try #require(stored.nodes.first { $0.featureType == GraphJSON.featureType }).feature
        #expect(feature == GraphJSON.cantorPairing(0, 0))
        let scan = GraphJSON.localFeaturesScan(stored.metadata.scan)
        let requested = URL(string: "\(scan)/\(feature).json", relativeTo: URL(string: "http://localhost:8032/index.html"))!
        #expect(requested.absoluteURL.path == "/data/features/test/scan/0.json")
        let dataDir = URL(fileURLWithPath: "/export")
        let served = dataDir.appendingPathComponent(String(requested.absoluteURL.path.dropFirst("/data/".count)))
        #expect(served == dataDir.appendingPathComponent("features").appendingPathComponent(stored.metadata.scan)
            .appendingPathComponent("\(feature).json"))
    }

    /// Scans that cannot name a folder under `features/`, bad slugs and non-graph documents are
    /// refused, naming what is wrong; without local features any scan is kept as it is.
    @Test(arguments: ["../up", "/abs/olute", "a//b", "a/./b", "", "trailing/"])
    func refusesScansThatNameNoFolder(_ scan: String) throws {
        var stored = try storedDocument()
        stored.metadata.scan = scan
        let scratch = try ScratchFolder("viewer")
        defer { scratch.remove() }
        #expect {
            try GraphJSON.writeForViewer(GraphJSON.encode(stored), source: "test", slug: "p5", localFeatures: true, to: scratch.url)
        } throws: { error in
            guard case let TracerError.invalidArgument(message) = error else { return false }
            return message.contains("scan '\(scan)'")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("p5.json").path), "nothing written")
        let kept = try GraphJSON.writeForViewer(GraphJSON.encode(stored), source: "test", slug: "p5", localFeatures: false, to: scratch.url)
        #expect(try FrontendGraph(contentsOf: kept.graph).metadata.scan == scan)
    }

    @Test func refusesBadSlugsAndDocuments() throws {
        let scratch = try ScratchFolder("viewer")
        defer { scratch.remove() }
        let data = GraphJSON.encode(try storedDocument())
        #expect(throws: TracerError.self) {
            try GraphJSON.writeForViewer(data, source: "test", slug: "a/b", localFeatures: true, to: scratch.url)
        }
        #expect {
            try GraphJSON.writeForViewer(Data("{\"nodes\": []}".utf8), source: "prompt 'p5'", slug: "p5", localFeatures: true, to: scratch.url)
        } throws: { error in
            guard case let TracerError.malformedFile(source, _) = error else { return false }
            return source == "prompt 'p5'"
        }
    }
}
