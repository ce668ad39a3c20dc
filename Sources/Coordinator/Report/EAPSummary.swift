import Foundation
import Storage

/// The `eap` section of `report.json` for an EAP job: the merged edge scores (`/eap` of
/// `aggregate.h5`) as means over the scored pairs, the top edges by each method, and the circuit
/// at each chosen size (the top edges by |mean EAP score|), which `report.html` draws.
///
/// Sign: every score is `L(patched) − L(clean)` (`EdgeAttribution`): negative where corrupting
/// the edge lowers the metric, i.e. the edge carries the clean prompt's answer.
public struct EAPSummary: Codable, Sendable {
    /// One edge and its mean score by every method run (nil: not run).
    public struct Edge: Codable, Sendable, Equatable {
        public var edge: String, sender: String, receiver: String
        public var eap: Double
        public var eap_ig: Double?
        public var exact: Double?
    }
    /// The top `size` edges by |mean score| of `method`.
    public struct Circuit: Codable, Sendable {
        public var method: String
        public var size: Int
        public var edges: [Edge]
    }

    public var metric: String
    public var ig_steps: Int
    public var methods: [String]
    public var pairs_scored: Int
    public var pairs_skipped: Int
    public var edges_total: Int
    public var mean_clean_metric: Double?
    public var mean_corrupt_metric: Double?
    /// Mean over pairs of |L(clean) − L(corrupt)|.
    public var mean_abs_total_effect: Double?
    /// By |mean EAP score|, then by |mean EAP-IG|, |mean exact| when those ran.
    public var top_edges: [Edge]
    public var top_edges_eap_ig: [Edge]?
    public var top_edges_exact: [Edge]?
    public var circuits: [Circuit]
    /// Every component of the model: the senders in order of first appearance in the edge list,
    /// then the receivers' components not among them (`logits`): the boxes of the circuit drawings.
    public var components: [String]

    /// Circuit sizes drawn by default (edges).
    public static let circuitSizes = [20, 50]
    /// Edges listed per ranking.
    public static let topEdges = 50

    public init(_ s: EdgeScoreSums, skipped: Int, top: Int = topEdges, circuitSizes: [Int] = circuitSizes) {
        metric = s.metric
        ig_steps = s.igSteps
        methods = EdgeScoreSums.Method.allCases.filter { s.scores[$0] != nil }.map(\.rawValue)
        pairs_scored = s.pairs
        pairs_skipped = skipped
        edges_total = s.edges.count
        let n = Double(s.pairs)
        mean_clean_metric = s.pairs > 0 ? s.cleanMetric / n : nil
        mean_corrupt_metric = s.pairs > 0 ? s.corruptMetric / n : nil
        mean_abs_total_effect = s.pairs > 0 ? s.absoluteTotalEffect / n : nil
        let eap = s.mean(.eap), ig = s.mean(.eapIG), exact = s.mean(.exact)
        let all: [Edge] = s.edges.indices.map { i in
            let (sender, receiver) = Self.split(s.edges[i])
            return Edge(edge: s.edges[i], sender: sender, receiver: receiver, eap: eap?[i] ?? .nan, eap_ig: ig?[i], exact: exact?[i])
        }
        func ranked(_ score: (Edge) -> Double?, _ k: Int) -> [Edge] {
            // |score| descending; ties in edge order (a total order: the report is deterministic).
            all.indices.filter { score(all[$0])?.isFinite == true }
                .sorted { (abs(score(all[$0])!), -$0) > (abs(score(all[$1])!), -$1) }.prefix(k).map { all[$0] }
        }
        top_edges = eap == nil ? [] : ranked(\.eap, top)
        top_edges_eap_ig = ig == nil ? nil : ranked(\.eap_ig, top)
        top_edges_exact = exact == nil ? nil : ranked(\.exact, top)
        var seen = Set<String>(), names: [String] = []
        for c in all.map(\.sender) + all.map({ Self.component(of: $0.receiver) }) where seen.insert(c).inserted { names.append(c) }
        components = names
        circuits = eap == nil ? [] : circuitSizes.map { Circuit(method: EdgeScoreSums.Method.eap.rawValue, size: $0, edges: ranked(\.eap, $0)) }
    }

    /// A receiver's component: `a2.h3<q>` → `a2.h3`, `m1` → `m1`.
    static func component(of receiver: String) -> String {
        receiver.firstIndex(of: "<").map { String(receiver[..<$0]) } ?? receiver
    }

    /// `a0.h1->a2.h3<q>` → (`a0.h1`, `a2.h3<q>`).
    static func split(_ edge: String) -> (String, String) {
        guard let r = edge.range(of: "->") else { return (edge, "") }
        return (String(edge[..<r.lowerBound]), String(edge[r.upperBound...]))
    }
}
