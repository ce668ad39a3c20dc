import Foundation
import Storage

/// `/api/search?q=`: a feature id, prompt ids and texts, and tokens.
public struct SearchResults: Codable, Sendable {
    public struct FeatureHit: Codable, Sendable { public var feature: String, graph_prompts: Int }
    public struct TokenHit: Codable, Sendable { public var prompt_id: String, pos: Int, token: String, prompt: String, tokens: [String] }

    public static let limit = 50

    public var query: String
    public var features: [FeatureHit]
    /// Prompts whose id or text contains the query (case-insensitive).
    public var prompts: [PromptSummary]
    /// Positions whose token, trimmed, equals the query (case-insensitive).
    public var tokens: [TokenHit]
    public var truncated: Bool

    /// - Throws: `ServeError.badRequest` for an empty or over-long query.
    public init(_ raw: String, catalog c: Catalog) throws {
        let q = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty, q.count <= 200 else { throw ServeError.badRequest("search needs q= with 1 to 200 characters") }
        query = q
        let needle = q.lowercased()
        features = []
        if let id = FeatureID(lenient: q), let hits = c.features.occurrences[id] {
            features.append(FeatureHit(feature: id.description, graph_prompts: Set(hits.map(\.graph)).count))
        }
        let allPrompts = c.prompts.filter { $0.id.lowercased().contains(needle) || $0.prompt.lowercased().contains(needle) }
        var allTokens: [TokenHit] = []
        for g in c.graphs where allTokens.count <= Self.limit {
            for (pos, t) in g.tokens.enumerated() where t.trimmingCharacters(in: .whitespaces).lowercased() == needle {
                allTokens.append(TokenHit(prompt_id: g.id, pos: pos, token: t, prompt: g.prompt, tokens: g.tokens))
            }
        }
        prompts = Array(allPrompts.prefix(Self.limit))
        tokens = Array(allTokens.prefix(Self.limit))
        truncated = allPrompts.count > Self.limit || allTokens.count > Self.limit
    }
}
