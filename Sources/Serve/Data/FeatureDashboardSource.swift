import Foundation
import Storage

/// Where the viewer reads a feature's dashboard (top-activating contexts, quantile samples,
/// activation histogram, top and bottom logits) from: the one seam between `circuits serve`
/// and the feature-dashboard store of issue 15.
///
/// `dashboard(for:)` returns circuit-tracer's feature JSON (the object its frontend loads per
/// feature: `index`, `examples_quantiles`, `top_logits`, `bottom_logits`, `act_min`, `act_max`,
/// …) as UTF-8 bytes, or nil when the run holds no dashboard for the feature. The pages render
/// that JSON as it is; swapping in the real reader is a one-line change in `Catalog`.
public protocol FeatureDashboardSource: Sendable {
    /// circuit-tracer feature JSON for `feature`, or nil.
    func dashboard(for feature: FeatureID) throws -> Data?
    /// Said on the feature page when `dashboard(for:)` is nil.
    var absenceNote: String { get }
}

/// The source of runs without dashboard data (every run until issue 15 lands).
public struct NoFeatureDashboards: FeatureDashboardSource {
    public init() {}
    public func dashboard(for feature: FeatureID) throws -> Data? { nil }
    public var absenceNote: String {
        "No dashboard data here (a folder of traced graphs, or a run made with statistics.dashboards: false): top-activating contexts over the corpus, quantile samples and top logits come from a corpus run's dashboards. Shown instead: the traced graphs that hold this feature, with the token where it is active."
    }
}
