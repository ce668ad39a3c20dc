/// One context of a feature's dashboard: the position where it was active, and a window of the
/// prompt's tokens around it with the feature's activation at each of them.
public struct DashboardExample: Sendable, Equatable {
    /// The feature's activation at `position`.
    public var activation: Float
    /// The prompt's ordinal: its index among the corpus's valid prompts (its row of the aggregate's `/prompts`).
    public var prompt: Int64
    /// Token position in the prompt (BOS = 0).
    public var position: Int32
    /// Sample key: a hash of (prompt, position, feature) that orders samples (smallest kept).
    public var key: UInt64
    /// Position of `tokens[0]`.
    public var windowStart: Int32
    /// Token ids of the window. `[width]`
    public var tokens: [Int32]
    /// The feature's activation at each token of the window (0 where inactive). `[width]`
    public var activations: [Float]

    public init(activation: Float, prompt: Int64, position: Int32, key: UInt64,
                windowStart: Int32 = 0, tokens: [Int32] = [], activations: [Float] = []) {
        self.activation = activation; self.prompt = prompt; self.position = position; self.key = key
        self.windowStart = windowStart; self.tokens = tokens; self.activations = activations
    }

    /// Top-k order: highest activation first, ties by prompt ordinal then position (a total order,
    /// so the top-k of a corpus does not depend on how it was split or in which order merged).
    @inlinable
    public static func ranksAbove(_ a: DashboardExample, _ b: DashboardExample) -> Bool {
        (a.activation, -a.prompt, -Int64(a.position)) > (b.activation, -b.prompt, -Int64(b.position))
    }

    /// Sample order: smallest key first, ties by prompt ordinal then position.
    @inlinable
    public static func samplesBefore(_ a: DashboardExample, _ b: DashboardExample) -> Bool {
        (a.key, a.prompt, a.position) < (b.key, b.prompt, b.position)
    }

    /// The sample key of (prompt, position, feature): splitmix64 finalisers, so that each bin's
    /// kept samples (the smallest keys) are a uniform sample of its positions, exactly mergeable.
    @inlinable
    public static func sampleKey(prompt: Int64, position: Int, feature: Int) -> UInt64 {
        var z = UInt64(bitPattern: prompt) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(position) &* 0xBF58_476D_1CE4_E5B9
        z ^= UInt64(feature) &* 0x94D0_49BB_1331_11EB
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
