/// One clean/corrupt pair of an EAP task, tokenized: both prompts have the same number of
/// tokens (BOS included), and the metric compares `answer` with `wrong` at the last position.
public struct PromptPair: Sendable, Equatable {
    /// The pair's id in its file (`id` field, else `line-N`).
    public var id: String
    public var clean: [Int]
    public var corrupt: [Int]
    /// The answer token on the clean prompt.
    public var answer: Int
    /// The answer the corrupt prompt leads to (logit-diff's subtrahend).
    public var wrong: Int

    public init(id: String, clean: [Int], corrupt: [Int], answer: Int, wrong: Int) {
        self.id = id
        self.clean = clean
        self.corrupt = corrupt
        self.answer = answer
        self.wrong = wrong
    }
}
