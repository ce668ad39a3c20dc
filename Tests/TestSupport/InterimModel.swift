import Foundation

/// The bundled interim demo model (`models/interim`: the plt_relu reference case's model and
/// transcoders), used by pipeline tests.
public enum InterimModel {
    public static let model = repositoryRoot.appendingPathComponent("models/interim/model")
    public static let transcoders = repositoryRoot.appendingPathComponent("models/interim/plt")
    /// More tokens than the model's context (64).
    public static let tooLongPrompt = Array(repeating: "the cat", count: 40).joined(separator: " ")
}
