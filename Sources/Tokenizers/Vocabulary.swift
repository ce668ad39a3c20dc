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

    /// The largest token id accepted: Hugging Face `tokenizers` stores ids as u32.
    static let maximumID = Int(UInt32.max)

    init() {}

    /// Reads a `{"token": id, ...}` object.
    ///
    /// - Throws: `TokenizerError.invalidField` when an id is not an integer in 0...2^32 − 1.
    init(object: JSONObject, field: String, file: String) throws {
        ids.reserveCapacity(object.members.count)
        tokens.reserveCapacity(object.members.count)
        for (token, value) in object.members {
            guard case let .int(id) = value, (0...Self.maximumID).contains(id) else {
                throw TokenizerError.invalidField("\(field)[\"\(token)\"]", expected: "an integer id from 0 to \(Self.maximumID)", file: file)
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
