import Foundation
import Storage

/// circuit-tracer's feature files for the features of one exported graph: `features/<scan>/<n>.json`
/// beside the graph document, `scan` being the stored graph's scan and `n` the node's `feature`
/// number (the Cantor pair of layer and index, `GraphJSON`). circuit-tracer's viewer requests
/// them as `<scan>/<n>.json` once the exported graph names the scan `./data/features/<scan>`
/// (`GraphJSON.localFeaturesScan`, written by `GraphJSON.writeForViewer`).
public enum FeatureFilesExport {
    /// Writes the feature file of every feature node of `graphJSON` under `folder`; returns how many.
    /// - Throws: `MergeError` when the graph document cannot be read or its scan cannot name a
    ///   folder; `DashboardLookupError` when it names a feature outside the run's transcoders.
    @discardableResult
    public static func write(graphJSON: Data, dashboards run: RunDashboards, into folder: URL) throws -> Int {
        guard let doc = try? JSONSerialization.jsonObject(with: graphJSON) as? [String: Any],
              let nodes = doc["nodes"] as? [[String: Any]] else {
            throw MergeError(path: folder.path, reason: "the graph document has no `nodes` list")
        }
        let scan = ((doc["metadata"] as? [String: Any])?["scan"] as? String) ?? ""
        let parts = scan.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw MergeError(path: folder.path, reason: "the graph's scan '\(scan)' cannot name a folder under features/ "
                             + "(a relative path without empty, '.' or '..' parts)")
        }
        let dir = folder.appendingPathComponent("features").appendingPathComponent(scan)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var written = Set<Int>()
        for node in nodes {
            // Feature nodes: node_id "L_F_P" with F ≥ 0 (error nodes are "L_-1_P"; tokens "E_…"; logits have no feature type).
            guard node["feature_type"] as? String == "cross layer transcoder", let id = node["node_id"] as? String,
                  let number = node["feature"] as? Int else { continue }
            let parts = id.split(separator: "_")
            guard parts.count == 3, let layer = Int(parts[0]), let index = Int(parts[1]), index >= 0,
                  written.insert(number).inserted else { continue }
            let dashboard = try run.dashboard(FeatureID(layer: layer, feature: index))
            try AtomicFile.write(try dashboard.encodedJSON(transcoderID: "\(scan)/\(layer)", pretty: false),
                                 to: dir.appendingPathComponent("\(number).json"))
        }
        return written.count
    }
}
