import Foundation

/// A string compared and hashed by its exact UTF-8 bytes.
///
/// Swift `String` equality follows canonical equivalence ("é" == "e\u{301}"), but a
/// tokenizer vocabulary is a map over exact byte strings, as in Rust `tokenizers`.
struct ExactString: Hashable, Sendable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        for byte in text.utf8 { hasher.combine(byte) }
        hasher.combine(0xFF as UInt8)  // terminator: no UTF-8 string contains 0xFF
    }
}

/// A token ↔ id map, keyed by exact strings.
struct Vocabulary: Sendable {
    private var ids: [ExactString: Int] = [:]
    private var tokens: [Int: String] = [:]

    /// One past the largest id (0 when empty).
    private(set) var upperBound = 0

    init() {}

    /// Reads a `{"token": id, ...}` object.
    ///
    /// - Throws: `TokenizerError.invalidField` when an id is not a non-negative integer.
    init(object: JSONObject, field: String, file: String) throws {
        ids.reserveCapacity(object.members.count)
        tokens.reserveCapacity(object.members.count)
        for (token, value) in object.members {
            guard case let .int(id) = value, id >= 0 else {
                throw TokenizerError.invalidField("\(field)[\"\(token)\"]", expected: "a non-negative integer id", file: file)
            }
            insert(token, id: id)
        }
    }

    /// Adds or replaces an entry (the last entry for a token or an id wins, as in a JSON map).
    mutating func insert(_ token: String, id: Int) {
        ids[ExactString(token)] = id
        tokens[id] = token
        upperBound = max(upperBound, id + 1)
    }

    func id(of token: String) -> Int? { ids[ExactString(token)] }

    func token(for id: Int) -> String? { tokens[id] }

    var count: Int { ids.count }
}
