import Coordinator
import Foundation
import Storage
import Tracer

/// The feature dashboards of a corpus run (`/dashboards` of its aggregate, issue 15), as
/// circuit-tracer feature JSON for the viewer.
public struct RunFeatureDashboards: FeatureDashboardSource {
    let run: RunDashboards
    let scan: String

    /// - Throws: `MergeError` when the run has no dashboards (a job with `statistics.dashboards: false`).
    public init(layout: RunLayout) throws {
        run = try RunDashboards(aggregate: layout.aggregate)
        scan = Self.scan(of: layout)
    }

    public func dashboard(for feature: FeatureID) throws -> Data? {
        guard (0..<run.dashboards.nLayers).contains(feature.layer), (0..<run.dashboards.dTranscoder).contains(feature.feature) else { return nil }
        return try run.dashboard(feature).encodedJSON(transcoderID: "\(scan)/\(feature.layer)", pretty: false)
    }

    public var absenceNote: String { "This feature is outside the run's transcoders." }

    /// The run's transcoder set as circuit-tracer names it (`scan` of its config.yaml), or
    /// `circuits` when the job or the transcoders cannot be read.
    public static func scan(of layout: RunLayout) -> String {
        (try? layout.loadJob()).flatMap { try? TranscoderConfig(directory: URL(fileURLWithPath: $0.transcoders)).scan } ?? "circuits"
    }
}
