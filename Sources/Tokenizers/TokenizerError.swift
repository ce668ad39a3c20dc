import Foundation

/// What can go wrong while reading a `tokenizer.json` or preparing a prompt.
///
/// Every case names the file and the JSON path of the offending component, so the
/// description alone says what to fix.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file (`tokenizer.json`, `tokenizer_config.json`, ...) is not where it should be.
    case fileNotFound(String, what: String)
    /// A file exists but is not valid JSON of the expected shape (path, why).
    case malformedFile(String, String)
    /// A word needs the unknown token and the tokenizer has none.
    case unknownToken(String)
    /// The prompt encodes to no tokens.
    case emptyPrompt
    /// A component (`model`, `normalizer`, `pre_tokenizer`, `decoder`, `post_processor`) has a
    /// `type` this reader does not implement.
    case unsupportedComponent(kind: String, type: String, file: String)
    /// A required field is absent.
    case missingField(String, file: String)
    /// A field is present but has the wrong kind or an out-of-range value.
    case invalidField(String, expected: String, file: String)
    /// A regular expression of a `Split` pre-tokenizer or a `Replace` step does not compile.
    case invalidRegex(pattern: String, field: String, file: String, reason: String)
    /// A BPE merge names a token that is not in the vocabulary.
    case mergeOutOfVocabulary(merge: String, token: String, file: String)
    /// `attributedIds` found no token to prepend: bos, pad, eos and every special id are
    /// missing or 0 (circuit-tracer skips falsy ids).
    case noBeginningOfSequenceToken(file: String)

    public var description: String {
        switch self {
        case let .fileNotFound(path, what): return "\(what) not found: \(path)"
        case let .malformedFile(path, why): return "malformed file \(path): \(why)"
        case let .unknownToken(word): return "token '\(word)' is not in the vocabulary and the tokenizer has no unknown token"
        case .emptyPrompt: return "prompt is empty"
        case let .unsupportedComponent(kind, type, file):
            return "unsupported \(kind) type '\(type)' in \(file)"
        case let .missingField(field, file):
            return "missing field '\(field)' in \(file)"
        case let .invalidField(field, expected, file):
            return "field '\(field)' in \(file) should be \(expected)"
        case let .invalidRegex(pattern, field, file, reason):
            return "regular expression \(field) = '\(pattern)' in \(file) does not compile: \(reason)"
        case let .mergeOutOfVocabulary(merge, token, file):
            return "BPE merge '\(merge)' in \(file) uses '\(token)', which is not in the vocabulary"
        case let .noBeginningOfSequenceToken(file):
            return "no token to prepend at position 0 for \(file): bos, pad, eos and all special token ids are missing or 0; add a bos_token to tokenizer_config.json"
        }
    }
}
