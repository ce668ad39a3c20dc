import Foundation
import Storage

/// Which served graphs hold each feature, and where: built once from the graphs.
public struct FeatureIndex: Sendable {
    /// A feature node in a graph: `graph` indexes `Catalog.graphs`, `node` its nodes.
    public struct Occurrence: Sendable, Equatable { public var graph: Int, node: Int }

    public private(set) var occurrences: [FeatureID: [Occurrence]] = [:]

    public init(_ graphs: [ServedGraph]) {
        for (g, graph) in graphs.enumerated() {
            for (i, n) in graph.nodes.enumerated() where n.kind == .feature {
                occurrences[FeatureID(layer: n.layer, feature: n.feature), default: []].append(Occurrence(graph: g, node: i))
            }
        }
    }

    /// Features present in some graph, most prompts first.
    public var byPrompts: [(feature: FeatureID, prompts: Int)] {
        occurrences.map { ($0.key, Set($0.value.map(\.graph)).count) }.sorted { ($0.prompts, $1.feature) > ($1.prompts, $0.feature) }
    }
}
