import Foundation
import Yams

/// YAML for configuration files (job specs, transcoder `config.yaml`), read strictly.
///
/// Plain `Yams.load` accepts a mapping that repeats a key (the last one silently wins) and
/// expands aliases without limit: a 527-byte "billion laughs" document (`b: &b [*a, *a, ...]`)
/// takes gigabytes. Here the document is first composed into a node tree, where an alias is
/// the anchored node shared, not copied, and checked before any value is built:
/// - an alias of a sequence or mapping (`*name` pointing at `&name [...]` / `{...}`) is
///   rejected: no configuration of ours needs one, and without them the document's size bounds
///   the size of the value. Aliases of scalars are harmless and allowed;
/// - a mapping that repeats a key is rejected, naming the key and its line;
/// - a key that is a list or a mapping is rejected (Yams would trap building it);
/// - nesting deeper than `maximumDepth` is rejected.
public enum StrictYAML {
    /// Nesting deeper than this is not a configuration file.
    public static let maximumDepth = 64

    /// The document in `text` as Yams builds it (`[String: Any]`, `[Any]`, scalars), or nil for
    /// an empty document.
    /// - Throws: `StrictYAMLError` naming `file` (YAML syntax, alias, duplicate key, depth).
    public static func load(_ text: String, file: String) throws -> Any? {
        // Yams composes recursively: tens of thousands of `[` overflow the stack before any
        // check of ours could run, so a bound on the depth is taken from the text first.
        if let line = deepLine(text) {
            throw StrictYAMLError(file: file, key: nil, reason: "line \(line) is nested more than \(textDepthLimit) levels deep")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            let detail = "\(error)".split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && $0 != "^" }
            throw StrictYAMLError(file: file, key: nil, reason: "not valid YAML: " + detail.prefix(2).joined(separator: " "))
        }
        guard let root else { return nil }
        var seen = Set<Location>()
        try check(root, path: "", depth: 0, seen: &seen, file: file)
        return root.any
    }

    /// `text` read from `url` (UTF-8) and loaded by `load(_:file:)`.
    public static func load(contentsOf url: URL) throws -> Any? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw StrictYAMLError(file: url.path, key: nil, reason: exists ? "cannot read the file" : "no such file")
        }
        switch UTF8Text.decode(data) {
        case let .success(text): return try load(text, file: url.path)
        case let .failure(bad): throw StrictYAMLError(file: url.path, key: nil, reason: bad.description)
        }
    }

    /// The bound `deepLine` puts on its depth estimate; well above any configuration (whose
    /// real depth must also stay within `maximumDepth`), well below what overflows a thread's stack.
    static let textDepthLimit = 256

    /// The first line (1-based) on which an upper bound of the nesting depth exceeds
    /// `textDepthLimit`, or nil. The bound, per line: open flow brackets (`[`, `{`) carried from
    /// earlier lines, plus the indentation, plus block indicators (`- `, `? `, `: `) and flow
    /// brackets on the line, outside quotes and comments. Each level of nesting needs one of
    /// these, so a document under the bound is never deeper than it.
    /// - Complexity: O(n), one pass over the characters.
    static func deepLine(_ text: String) -> Int? {
        var flow = 0
        for (k, line) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var bound = flow + line.prefix { $0 == UInt8(ascii: " ") }.count
            var quote: UInt8? = nil, previous = UInt8(ascii: " ")
            let space = UInt8(ascii: " "), scalarStart: [UInt8] = [space, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":")]
            scan: for c in line {
                if let q = quote {
                    if c == q { quote = nil }
                } else {
                    switch c {
                    case _ where (c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")) && scalarStart.contains(previous): quote = c
                    case UInt8(ascii: "#") where previous == space: break scan
                    case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1; bound += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
                    case space where [UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":")].contains(previous): bound += 1
                    default: break
                    }
                }
                previous = c
            }
            if bound > textDepthLimit { return k + 1 }
        }
        return nil
    }

    /// Where a collection node starts: an alias is the anchored node met a second time.
    private struct Location: Hashable { var mapping: Bool, line: Int, column: Int }

    private static func check(_ node: Node, path: String, depth: Int, seen: inout Set<Location>, file: String) throws {
        func fail(_ reason: String) -> StrictYAMLError { StrictYAMLError(file: file, key: path.isEmpty ? nil : path, reason: reason) }
        guard depth <= maximumDepth else { throw fail("nested deeper than \(maximumDepth) levels") }
        switch node {
        case .scalar:
            return
        case let .sequence(sequence):
            if let mark = sequence.mark, !seen.insert(Location(mapping: false, line: mark.line, column: mark.column)).inserted {
                throw fail("uses an alias of the list anchored at line \(mark.line); YAML aliases of lists and mappings are not supported")
            }
            for (i, item) in sequence.enumerated() {
                try check(item, path: "\(path)[\(i)]", depth: depth + 1, seen: &seen, file: file)
            }
        case let .mapping(mapping):
            if let mark = mapping.mark, !seen.insert(Location(mapping: true, line: mark.line, column: mark.column)).inserted {
                throw fail("uses an alias of the mapping anchored at line \(mark.line); YAML aliases of lists and mappings are not supported")
            }
            var keys = [String: Int]()
            for (key, value) in mapping {
                // Yams builds a mapping's keys as strings and traps on any other key (`? [a]: b`,
                // `{{a: 1}: b}`, `!!set {? [x]}`): only plain scalars can name a field.
                guard let name = key.scalar?.string else {
                    let kind = key.sequence != nil ? "a list" : "a mapping"
                    throw fail("a key at line \(key.mark?.line ?? 0) is \(kind); keys must be plain scalars")
                }
                let line = key.mark?.line ?? 0
                let full = path.isEmpty ? name : "\(path).\(name)"
                if let first = keys[name] {
                    throw StrictYAMLError(file: file, key: full, reason: "duplicate key (line \(line); first at line \(first))")
                }
                keys[name] = line
                try check(key, path: full, depth: depth + 1, seen: &seen, file: file)
                try check(value, path: full, depth: depth + 1, seen: &seen, file: file)
            }
        }
    }
}

/// A configuration file is not acceptable YAML; names the file and, when known, the key
/// (`attribution.batch_size`).
public struct StrictYAMLError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var key: String?
    public var reason: String
    public init(file: String, key: String?, reason: String) { self.file = file; self.key = key; self.reason = reason }
    public var description: String { "\(file): " + (key.map { "key '\($0)': " } ?? "") + reason }
}
