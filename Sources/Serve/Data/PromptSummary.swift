import Foundation

/// One prompt as lists and search show it (`/api/prompts`).
public struct PromptSummary: Codable, Sendable, Equatable {
    public var id: String
    public var prompt: String
    /// "done" (a graph to view), "statistics" (traced without a graph) or "failed".
    public var status: String
    public var reason: String?
    public var label: String?
    public var n_tokens: Int?
    public var n_nodes: Int?, n_edges: Int?
    public var replacement_score: Double?, completeness_score: Double?

    /// NaN and infinities become nil (JSON has no spelling for them).
    static func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
}
