import Foundation

/// The `model` of `tokenizer.json`.
enum TokenModel: Sendable {
    case bpe(BPEModel)
    case wordLevel(WordLevelModel)

    /// The types read by `init(node:)`.
    static let supportedTypes = "BPE, WordLevel"

    /// Reads the `model` object; its `type` may be omitted in old files, then BPE is assumed
    /// when `merges` is present and WordLevel otherwise.
    ///
    /// - Throws: `TokenizerError.unsupportedComponent` for WordPiece, Unigram or anything else.
    init(node: ConfigNode) throws {
        let type = try node.optionalString("type") ?? (node.value("merges") != nil ? "BPE" : "WordLevel")
        switch type {
        case "BPE": self = .bpe(try BPEModel(node: node))
        case "WordLevel": self = .wordLevel(try WordLevelModel(node: node))
        default:
            throw TokenizerError.unsupportedComponent(kind: "model (supported: \(Self.supportedTypes))", type: type, file: node.file)
        }
    }

    var vocabulary: Vocabulary {
        switch self {
        case let .bpe(model): return model.vocabulary
        case let .wordLevel(model): return model.vocabulary
        }
    }

    var unkToken: String? {
        switch self {
        case let .bpe(model): return model.unkToken
        case let .wordLevel(model): return model.unkToken
        }
    }

    func tokenize(_ word: String) throws -> [Int] {
        switch self {
        case let .bpe(model): return try model.tokenize(word)
        case let .wordLevel(model): return try model.tokenize(word)
        }
    }
}
