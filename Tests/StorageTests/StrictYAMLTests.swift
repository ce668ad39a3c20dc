import Foundation
import Storage
import Testing

/// Configuration YAML read strictly: repeated keys, aliases of lists and mappings ("billion
/// laughs") and absurd nesting are errors naming the file and the key.
@Suite struct StrictYAMLTests {
    /// The 527-byte "billion laughs": nine levels of nine aliases, 9^9 strings when expanded
    /// (4.5 GB and 17 s through `Yams.load`).
    static let billionLaughs: String = {
        var lines = ["a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func aliasBombIsRefusedQuickly() throws {
        let start = Date()
        #expect(throws: StrictYAMLError(file: "bomb.yaml", key: "b[0]",
                                        reason: "uses an alias of the list anchored at line 1; YAML aliases of lists and mappings are not supported")) {
            _ = try StrictYAML.load(Self.billionLaughs, file: "bomb.yaml")
        }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test(arguments: [
        ("a: 1\nb: 2\na: 3\n", "a", "duplicate key (line 3; first at line 1)"),
        ("s:\n  x: 1\n  x: 2\n", "s.x", "duplicate key (line 3; first at line 2)"),
        ("s: {x: 1, y: 2, x: 3}\n", "s.x", "duplicate key (line 1; first at line 1)"),
        ("base: &base {x: 1}\nother: *base\n", "other", "uses an alias of the mapping anchored at line 1; YAML aliases of lists and mappings are not supported"),
    ])
    func repeatedKeysAndAliasesNameTheKey(text: String, key: String, reason: String) {
        #expect(throws: StrictYAMLError(file: "f.yaml", key: key, reason: reason)) { _ = try StrictYAML.load(text, file: "f.yaml") }
    }

    /// Keys that are lists or mappings (found by the FuzzJobSpec fuzz target: Yams traps on them).
    @Test(arguments: [
        ("? 7:", nil, "a key at line 1 is a mapping; keys must be plain scalars"),
        ("? [a]\n: b\n", nil, "a key at line 1 is a list; keys must be plain scalars"),
        ("{{a: 1}: b}\n", nil, "a key at line 1 is a mapping; keys must be plain scalars"),
        ("model: !!set {? [x]}\n", "model", "a key at line 1 is a list; keys must be plain scalars"),
    ] as [(String, String?, String)])
    func nonScalarKeysAreRefused(text: String, key: String?, reason: String) {
        #expect(throws: StrictYAMLError(file: "f.yaml", key: key, reason: reason)) { _ = try StrictYAML.load(text, file: "f.yaml") }
    }

    @Test func deepNestingIsRefused() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect { _ = try StrictYAML.load(deep, file: "deep.yaml") } throws: { "\($0)".contains("nested deeper than 64 levels") }
    }

    /// 100,000 nested brackets overflowed the stack inside Yams; they are refused from the text.
    @Test(arguments: [
        "model: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n",
        String(repeating: "- ", count: 50_000) + "x\n",
        (0..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n",
    ])
    func absurdNestingIsRefusedBeforeParsing(text: String) {
        #expect { _ = try StrictYAML.load(text, file: "deep.yaml") } throws: { "\($0)".contains("levels deep") }
    }

    @Test func depthBoundIgnoresQuotesAndComments() throws {
        let text = "a: '" + String(repeating: "[", count: 300) + "'\nb: x # " + String(repeating: "{", count: 300) + "\nc: [don't, \"]]\"]\n"
        #expect(try StrictYAML.load(text, file: "ok.yaml") != nil)
    }

    @Test func ordinaryDocumentsAndScalarAliasesLoad() throws {
        let value = try StrictYAML.load("name: &n demo\ncopy: *n\nlist: [1, 2]\nmap: {x: 1.5}\n", file: "ok.yaml") as? [String: Any]
        #expect(value?["copy"] as? String == "demo")
        #expect(value?["list"] as? [Int] == [1, 2])
        #expect(try StrictYAML.load("", file: "empty.yaml") == nil)
    }

    @Test func nonUTF8FileNamesTheOffset() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("circuits-yaml-\(UUID().uuidString).yaml")
        try Data([0x61, 0x3A, 0x20, 0xC3, 0x28]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: StrictYAMLError(file: url.path, key: nil, reason: "not UTF-8 text (invalid byte at offset 3)")) {
            _ = try StrictYAML.load(contentsOf: url)
        }
    }
}
