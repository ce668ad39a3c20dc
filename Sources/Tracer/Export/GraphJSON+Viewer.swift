import Foundation

// Export for circuit-tracer's local viewer: a graph document already written (a shard's copy)
// -> a folder the viewer serves. `circuits export` calls it; the feature files beside it come
// from the run's dashboards (Coordinator's `FeatureFilesExport`).

extension GraphJSON {
    /// The `scan` of a graph whose feature files lie in its own folder, under
    /// `features/<scan>/<feature>.json`: `./data/features/<scan>`.
    ///
    /// circuit-tracer's viewer (0.5.0, `feature_examples/init-feature-examples.js`) fetches the
    /// feature of a node from `<scan>/<feature>.json` when the scan starts with `./`, and looks
    /// any other scan up on Hugging Face and transformer-circuits.pub. Its server
    /// (`circuit_tracer.frontend.local_server.serve(data_dir=…)`) answers `/data/<path>` from
    /// `data_dir/<path>`, and `./data/…` is not rewritten to a remote host while it serves
    /// locally. So with this scan, a folder holding `<slug>.json`, `graph-metadata.json` and
    /// `features/<scan>/` is everything the viewer needs.
    public static func localFeaturesScan(_ scan: String) -> String { "./data/features/" + scan }

    /// Writes a stored graph document into `folder` as circuit-tracer's local viewer reads it:
    /// `<slug>.json` with its metadata's `slug` set to `slug` (the viewer loads
    /// `graph_data/<slug>.json`) and, with `localFeatures`, its `scan` set to
    /// `localFeaturesScan(scan)`; and the graph's entry in `graph-metadata.json` (the viewer's list
    /// of graphs), added or replacing the one of the same slug. Everything else is as stored.
    ///
    /// - Parameters:
    ///   - document: a `<slug>.json` document (as `encode` writes it).
    ///   - source: names `document` in errors.
    /// - Returns: the URL of the graph document and the scan the stored document named.
    /// - Throws: `TracerError.malformedFile` when `document` is not a graph document;
    ///   `.invalidArgument` for a slug that is not a plain file name, or with `localFeatures` a
    ///   scan that is not a relative path without `.`/`..` components; as `write`.
    @discardableResult
    public static func writeForViewer(_ document: Data, source: String, slug: String, localFeatures: Bool,
                                      to folder: URL) throws -> (graph: URL, storedScan: String) {
        var graph = try FrontendGraph.decode(document, source: source)
        let scan = graph.metadata.scan
        graph.metadata.slug = slug
        if localFeatures {
            try checkFeaturesScan(scan)
            graph.metadata.scan = localFeaturesScan(scan)
        }
        return (try write(graph, to: folder), scan)
    }

    /// - Throws: `TracerError.invalidArgument` unless `scan` can name a folder under `features/`.
    static func checkFeaturesScan(_ scan: String) throws {
        let parts = scan.split(separator: "/", omittingEmptySubsequences: false)
        guard !scan.hasPrefix("/"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw TracerError.invalidArgument("scan '\(scan)' cannot name a feature folder: it must be a relative path "
                + "without empty, '.' or '..' parts (the transcoders' config.yaml `scan`)")
        }
    }
}
