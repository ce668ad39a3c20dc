import Foundation
import Storage

/// The feature dashboards of a merged run, read from `aggregate.h5` (`/dashboards`,
/// `/stats/features`, `/prompts/id`), for the report, `circuits features` and `circuits export`.
public struct RunDashboards: Sendable {
    public let dashboards: FeatureDashboards
    public let statistics: FeatureStatistics
    /// The id of each prompt ordinal.
    public let promptIDs: [String]
    public let labels: LabelStatistics?

    /// - Throws: `MergeError` naming the file when it has no dashboards (a job run with
    ///   `statistics.dashboards: false`, or before dashboards existed) or no feature statistics.
    public init(aggregate url: URL) throws {
        try MergeError.requireAggregate(url)
        let f = try HDF5File.open(url)
        defer { f.close() }
        guard let d = try FeatureDashboardsFile.read(f) else {
            throw MergeError(path: url.path, reason: "no \(DashboardSchema.group) group: the job ran with statistics.dashboards: false, or no task has completed")
        }
        guard let s = try FeatureStatisticsFile.read(f) else {
            throw MergeError(path: url.path, reason: "no \(FeatureStatisticsSchema.group) group")
        }
        guard s.shape == [d.nLayers, d.dTranscoder] else {
            throw SchemaError(file: url.path, object: DashboardSchema.group, detail: "shape [\(d.nLayers), \(d.dTranscoder)], \(FeatureStatisticsSchema.group) has \(s.shape)")
        }
        dashboards = d
        statistics = s
        promptIDs = try PromptTable.readIDs(f, at: ShardSchema.prompts)
        labels = try LabelStatistics.read(f)
    }

    /// The dashboard of `feature`.
    /// - Throws: `DashboardLookupError` when the run's transcoders have no such feature.
    public func dashboard(_ feature: FeatureID) throws -> FeatureDashboard {
        guard (0..<dashboards.nLayers).contains(feature.layer), (0..<dashboards.dTranscoder).contains(feature.feature) else {
            throw DashboardLookupError(feature: feature, nLayers: dashboards.nLayers, dTranscoder: dashboards.dTranscoder)
        }
        return FeatureDashboard(feature, dashboards: dashboards, statistics: statistics, promptIDs: promptIDs)
    }
}

/// A feature outside the run's transcoders.
public struct DashboardLookupError: Error, CustomStringConvertible, Sendable {
    public var feature: FeatureID, nLayers: Int, dTranscoder: Int
    public var description: String {
        "no feature \(feature) in this run: its transcoders have layers 0...\(nLayers - 1) with features 0...\(dTranscoder - 1)"
    }
}
