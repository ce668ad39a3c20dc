import Foundation

/// A whole-word model (`"type": "WordLevel"`): each pre-tokenized word is one vocabulary entry,
/// or the unknown token.
struct WordLevelModel: Sendable {
    let vocabulary: Vocabulary
    let unkToken: String?

    /// Reads a `model` object of type `WordLevel`.
    init(node: ConfigNode) throws {
        guard case let .object(vocabObject)? = node.value("vocab") else {
            throw TokenizerError.missingField(node.fieldPath("vocab"), file: node.file)
        }
        vocabulary = try Vocabulary(object: vocabObject, field: node.fieldPath("vocab"), file: node.file)
        unkToken = try node.optionalString("unk_token")
    }

    /// The id of `word`, else of the unknown token.
    ///
    /// - Throws: `TokenizerError.unknownToken(word)` when `word` is not in the vocabulary and
    ///   there is no unknown token (or it is not in the vocabulary either).
    func tokenize(_ word: String) throws -> [Int] {
        if let id = vocabulary.id(of: word) { return [id] }
        if let unkToken, let id = vocabulary.id(of: unkToken) { return [id] }
        throw TokenizerError.unknownToken(word)
    }
}
