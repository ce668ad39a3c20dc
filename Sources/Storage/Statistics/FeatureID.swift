/// A transcoder feature, context-free: its layer and index.
public struct FeatureID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var layer: Int
    public var feature: Int
    public init(layer: Int, feature: Int) { self.layer = layer; self.feature = feature }
    public static func < (a: FeatureID, b: FeatureID) -> Bool { (a.layer, a.feature) < (b.layer, b.feature) }
    public var description: String { "L\(layer)/F\(feature)" }
}

extension FeatureID {
    /// Parses the spelling of `description`, `L3/F117`; nil for anything else.
    public init?(parsing s: String) {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].first == "L", parts[1].first == "F",
              let l = Int(parts[0].dropFirst()), let f = Int(parts[1].dropFirst()), l >= 0, f >= 0 else { return nil }
        self.init(layer: l, feature: f)
    }
}
