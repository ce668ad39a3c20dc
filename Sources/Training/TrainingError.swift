import Foundation

/// What can go wrong while training transcoders. The CLI prints the description (one line)
/// and exits with status 2.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An option is missing or out of range: the option's spelling and why.
    case invalidOption(String, String)
    /// The corpus yields no training tokens (every prompt empty or failing to tokenize).
    case emptyCorpus(String, reason: String)
    /// `--resume` without a usable checkpoint, or one written with other options.
    case checkpoint(String, reason: String)
    /// A non-finite loss or gradient at a step (lower `--lr` or `--l1`).
    case diverged(step: Int, what: String)

    public var description: String {
        switch self {
        case let .invalidOption(option, why): return "\(option) \(why)"
        case let .emptyCorpus(file, reason): return "corpus \(file): \(reason)"
        case let .checkpoint(path, reason): return "checkpoint \(path): \(reason)"
        case let .diverged(step, what): return "training diverged at step \(step): non-finite \(what) (try a smaller --lr or --l1)"
        }
    }
}
