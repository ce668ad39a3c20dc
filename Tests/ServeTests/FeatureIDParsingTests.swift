import Storage
import Testing
@testable import Serve

struct FeatureIDParsingTests {
    @Test(arguments: [("L0/F197", FeatureID(layer: 0, feature: 197)), ("l3f5", FeatureID(layer: 3, feature: 5)),
                      (" 2/40 ", FeatureID(layer: 2, feature: 40)), ("L12/F0", FeatureID(layer: 12, feature: 0))])
    func parses(text: String, id: FeatureID) { #expect(FeatureID(lenient: text) == id) }

    @Test(arguments: ["", "L", "L0", "L0/", "F1", "L0/F-1", "L0/F1x", "LL0/F1", "L0/F99999999999999999999", "cat"])
    func refuses(text: String) { #expect(FeatureID(lenient: text) == nil) }
}
