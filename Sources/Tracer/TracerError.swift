import Foundation

/// Everything that can go wrong while loading a model or tracing a prompt.
///
/// Each case carries what failed and where, so that its `description` alone tells a user
/// what to fix. The CLI prints the description and exits with status 2.
public enum TracerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file or folder the engine needs does not exist.
    case fileNotFound(String, what: String)
    /// A file exists but cannot be parsed (bad header, truncated payload, bad JSON/YAML).
    case malformedFile(String, String)
    /// A tensor is missing from a weights file.
    case missingTensor(String, file: String)
    /// A tensor has a shape other than the one the model or transcoder config implies.
    case shapeMismatch(tensor: String, file: String, expected: [Int], actual: [Int])
    /// A tensor has a dtype the engine cannot read.
    case unsupportedDType(tensor: String, file: String, dtype: String)
    /// The model's `config.json` names an architecture the engine does not implement.
    case unknownArchitecture(String, file: String)
    /// A configuration value is missing or out of range.
    case invalidConfig(String, file: String)
    /// The prompt has more tokens than the model's context.
    case promptTooLong(tokens: Int, context: Int)
    /// The prompt is empty after tokenization.
    case emptyPrompt
    /// A word of the prompt is not in the vocabulary and the tokenizer has no unknown token.
    case unknownToken(String)
    /// A token id is outside the vocabulary.
    case tokenOutOfRange(Int, vocabulary: Int)
    /// A weight read from a file is NaN or ±Inf; `index` is the element's multi-index.
    case nonFiniteWeight(tensor: String, file: String, index: [Int], value: Float)
    /// A non-finite value appeared in a computation.
    case nonFinite(String)
    /// An option is out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .fileNotFound(path, what): return "\(what) not found: \(path)"
        case let .malformedFile(path, why): return "malformed file \(path): \(why)"
        case let .missingTensor(name, file): return "tensor '\(name)' missing from \(file)"
        case let .shapeMismatch(name, file, expected, actual):
            return "tensor '\(name)' in \(file) has shape \(actual), expected \(expected)"
        case let .unsupportedDType(name, file, dtype): return "tensor '\(name)' in \(file) has unsupported dtype \(dtype) (supported: F32, F16, BF16)"
        case let .unknownArchitecture(arch, file): return "unknown architecture '\(arch)' in \(file) (supported: GPT2LMHeadModel, LlamaForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM)"
        case let .invalidConfig(why, file): return "invalid configuration in \(file): \(why)"
        case let .promptTooLong(tokens, context): return "prompt has \(tokens) tokens (with BOS) but the model's context is \(context)"
        case .emptyPrompt: return "prompt is empty"
        case let .unknownToken(word): return "token '\(word)' is not in the vocabulary and the tokenizer has no unknown token"
        case let .tokenOutOfRange(id, vocab): return "token id \(id) is outside the vocabulary (size \(vocab))"
        case let .nonFiniteWeight(name, file, index, value):
            return "tensor '\(name)' in \(file) has a non-finite value (\(value)) at \(index); the weights are corrupt or were saved from a diverged run"
        case let .nonFinite(what): return "non-finite value in \(what)"
        case let .invalidArgument(why): return why
        }
    }
}
