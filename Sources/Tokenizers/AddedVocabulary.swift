import Foundation

/// One entry of `added_tokens` in `tokenizer.json`.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    /// Only matches when not touching word characters on either side.
    let singleWord: Bool
    /// Swallows the white space on its left / right.
    let lstrip: Bool
    let rstrip: Bool
    /// Matched in the normalized text (content normalized too) rather than the raw text.
    let normalized: Bool
    /// A special token: skipped by `decode(_:skipSpecialTokens: true)`.
    let special: Bool

    init(node: ConfigNode) throws {
        id = try node.int("id")
        guard (0...Vocabulary.maximumID).contains(id) else { throw node.invalid("id", "an integer id from 0 to \(Vocabulary.maximumID)") }
        content = try node.string("content")
        singleWord = try node.bool("single_word", default: false)
        lstrip = try node.bool("lstrip", default: false)
        rstrip = try node.bool("rstrip", default: false)
        normalized = try node.bool("normalized", default: true)
        special = try node.bool("special", default: false)
    }
}

/// The added tokens, matched in the text before the model sees it (as `tokenizers`'
/// `AddedVocabulary::extract_and_normalize`): first the non-normalized tokens in the raw text,
/// then, in each remaining stretch after normalization, the normalized ones. Matching is
/// leftmost-longest, like the Aho-Corasick automaton of `tokenizers`.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let rawTrie: TokenTrie
    private let normalizedTrie: TokenTrie
    private let specialContents: Set<ExactString>

    init(tokens: [AddedToken], normalizer: Normalizer?) {
        self.tokens = tokens
        var raw = TokenTrie(), normalized = TokenTrie()
        for (index, token) in tokens.enumerated() {
            if token.normalized {
                normalized.insert(Array((normalizer?.normalize(token.content) ?? token.content).unicodeScalars), token: index)
            } else {
                raw.insert(Array(token.content.unicodeScalars), token: index)
            }
        }
        rawTrie = raw
        normalizedTrie = normalized
        specialContents = Set(tokens.filter(\.special).map { ExactString($0.content) })
    }

    /// Whether `token` is the content of a special added token.
    func isSpecial(_ token: String) -> Bool { specialContents.contains(ExactString(token)) }

    /// `text` cut into added tokens and normalized stretches of ordinary text (empty stretches
    /// dropped).
    func extract(_ text: String, normalizer: Normalizer?) -> [Piece] {
        var pieces: [Piece] = []
        for part in split(text, trie: rawTrie) {
            if part.tokenId != nil { pieces.append(part); continue }
            let normalized = normalizer?.normalize(part.text) ?? part.text
            for (index, var sub) in split(normalized, trie: normalizedTrie).enumerated() {
                sub.atTextStart = part.atTextStart && index == 0 && sub.tokenId == nil
                pieces.append(sub)
            }
        }
        return pieces.filter { $0.tokenId != nil || !$0.text.isEmpty }
    }

    /// `tokenizers`' `find_matches`: the matches of `trie` with their `single_word`, `lstrip`
    /// and `rstrip` rules, and the text between them.
    private func split(_ text: String, trie: TokenTrie) -> [Piece] {
        guard !trie.isEmpty, !text.isEmpty else { return [Piece(text: text, atTextStart: true)] }
        let scalars = Array(text.unicodeScalars)
        func slice(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        var pieces: [Piece] = []
        var consumed = 0  // end of the last emitted piece
        var position = 0
        while position < scalars.count {
            guard let (length, index) = trie.longestMatch(in: scalars, at: position) else { position += 1; continue }
            let token = tokens[index]
            var start = position, stop = position + length
            position = stop
            if token.singleWord {
                let wordBefore = start > 0 && PreTokenizer.isWordCharacter(scalars[start - 1])
                let wordAfter = stop < scalars.count && PreTokenizer.isWordCharacter(scalars[stop])
                if wordBefore || wordAfter { continue }
            }
            if token.lstrip {
                while start > consumed, scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            if token.rstrip {
                while stop < scalars.count, scalars[stop].properties.isWhitespace { stop += 1 }
                position = stop
            }
            if consumed < start { pieces.append(Piece(text: slice(consumed..<start), atTextStart: consumed == 0)) }
            pieces.append(Piece(text: slice(start..<stop), tokenId: token.id, atTextStart: false))
            consumed = stop
        }
        if consumed < scalars.count { pieces.append(Piece(text: slice(consumed..<scalars.count), atTextStart: consumed == 0)) }
        return pieces
    }
}

/// A trie over Unicode scalars for leftmost-longest matching of added-token contents.
struct TokenTrie: Sendable {
    private var children: [[UInt32: Int32]] = [[:]]
    /// `terminal[node]`: the index of the token ending at `node` (the first inserted wins).
    private var terminal: [Int32] = [-1]

    var isEmpty: Bool { children[0].isEmpty }

    mutating func insert(_ scalars: [Unicode.Scalar], token: Int) {
        guard !scalars.isEmpty else { return }
        var node = 0
        for scalar in scalars {
            if let child = children[node][scalar.value] {
                node = Int(child)
            } else {
                children.append([:])
                terminal.append(-1)
                children[node][scalar.value] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        if terminal[node] < 0 { terminal[node] = Int32(token) }
    }

    /// The longest token starting at `start`, as (length in scalars, token index).
    func longestMatch(in scalars: [Unicode.Scalar], at start: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)?
        var position = start
        while position < scalars.count, let child = children[node][scalars[position].value] {
            node = Int(child)
            position += 1
            if terminal[node] >= 0 { best = (position - start, Int(terminal[node])) }
        }
        return best
    }
}
