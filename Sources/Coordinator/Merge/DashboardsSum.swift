import Storage

/// The feature dashboards of a run's shards combined in task order (`FeatureDashboards.add`,
/// exact: the result does not depend on which worker ran a task or when it finished).
struct DashboardsSum {
    var dashboards: FeatureDashboards?

    /// Adds the `/dashboards` of shard `f` (at `path`), if it has them.
    mutating func add(shard f: HDF5File, path: String) throws {
        guard let c = try FeatureDashboardsFile.readColumns(f) else { return }
        if dashboards == nil { dashboards = FeatureDashboards(nLayers: c.nLayers, dTranscoder: c.dTranscoder, parameters: c.parameters) }
        do { try dashboards!.add(c) } catch { throw MergeError(path: path, reason: "\(error)") }
    }

    func write(into f: HDF5File) throws {
        if let dashboards { try FeatureDashboardsFile.write(dashboards, into: f) }
    }
}
