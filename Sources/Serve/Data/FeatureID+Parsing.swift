import Foundation
import Storage

extension FeatureID {
    /// Parses the report's spelling `L0/F197` leniently, as search boxes and URLs meet it (also `L0F197`, `0/197`, case-insensitive,
    /// surrounding spaces ignored); nil for anything else.
    public init?(lenient text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces).uppercased())
        if s.hasPrefix("L") { s = s.dropFirst() }
        let layerDigits = s.prefix { $0.isASCII && $0.isNumber }
        s = s.dropFirst(layerDigits.count)
        if s.hasPrefix("/") { s = s.dropFirst() }
        if s.hasPrefix("F") { s = s.dropFirst() }
        guard !layerDigits.isEmpty, !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), layerDigits.count <= 6, s.count <= 12,
              let layer = Int(layerDigits), let feature = Int(s) else { return nil }
        self.init(layer: layer, feature: feature)
    }
}
