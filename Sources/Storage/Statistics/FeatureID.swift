/// A transcoder feature, context-free: its layer and index.
public struct FeatureID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var layer: Int
    public var feature: Int
    public init(layer: Int, feature: Int) { self.layer = layer; self.feature = feature }
    public static func < (a: FeatureID, b: FeatureID) -> Bool { (a.layer, a.feature) < (b.layer, b.feature) }
    public var description: String { "L\(layer)/F\(feature)" }
}
