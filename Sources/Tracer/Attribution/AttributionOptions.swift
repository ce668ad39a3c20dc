import Storage

/// Parameters of `attribute`: the graph's parameters (`AttributionParameters`, with
/// circuit-tracer's defaults, read through as `options.maxLogits`, ...) and the engine's own
/// knobs (threads, memory budgets, forced features), none of which change the graph.
@dynamicMemberLookup
public struct AttributionOptions: Sendable, Equatable {
    /// `maxLogits`, `logitProb`, `maxFeatureNodes`, `batchSize`, `updateInterval`.
    public var parameters = AttributionParameters()
    /// Threads running backward passes in parallel, each with single-threaded BLAS
    /// (nil: one per core). Results do not depend on it.
    public var threads: Int? = nil
    /// Work memory per thread (bytes): backward passes run on chunks of at most this size of
    /// one batch (`[P, chunk, dModel]` gradient buffers and `[chunk, nColumns]` rows); results
    /// do not depend on it beyond float32 round-off.
    public var workerMemoryBytes: Int = AttributionOptions.defaultWorkerMemoryBytes
    /// Under `maxFeatureNodes`, the visited rows kept in memory (bytes); rows beyond it are
    /// written to an unlinked temporary file and streamed back for each re-ranking.
    public var rowMemoryBytes: Int = AttributionOptions.defaultRowMemoryBytes
    /// Keep every active feature's scaled decoder vector in memory up to this size (bytes);
    /// above it they are read from the (mapped) weights per slot when needed.
    public var decoderCacheBytes: Int = AttributionOptions.defaultDecoderCacheBytes
    /// Under `maxFeatureNodes`, features (layer, index) whose active instances (any position)
    /// are selected first, before the influence ranking fills the rest: a prefilter from global
    /// weights (`circuits trace --prefilter`). No effect without `maxFeatureNodes`.
    public var forcedFeatures: Set<FeatureID> = []

    public static let defaultWorkerMemoryBytes = 1 << 30
    public static let defaultRowMemoryBytes = 2 << 30
    public static let defaultDecoderCacheBytes = 1 << 30

    public init(_ parameters: AttributionParameters = AttributionParameters(), threads: Int? = nil) {
        self.parameters = parameters
        self.threads = threads
    }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<AttributionParameters, T>) -> T {
        get { parameters[keyPath: keyPath] }
        set { parameters[keyPath: keyPath] = newValue }
    }

    /// Checks ranges (the parameters' own `validate()`, then the engine's knobs); the message
    /// names the option.
    public func validate() throws {
        do { try parameters.validate() } catch { throw TracerError.invalidArgument(error.description) }
        if let t = threads, t < 1 { throw TracerError.invalidArgument("threads must be at least 1 (got \(t))") }
        guard workerMemoryBytes >= 0, rowMemoryBytes >= 0, decoderCacheBytes >= 0 else {
            throw TracerError.invalidArgument("memory budgets must be ≥ 0 bytes")
        }
    }
}

/// Seconds spent in each phase of one trace.
public struct PhaseTimings: Sendable, Codable, Equatable {
    public var forward: Double = 0
    public var transcoders: Double = 0
    public var logitRows: Double = 0
    public var featureRows: Double = 0
    public var pruning: Double = 0
    /// Floating-point operations of the backward passes' matrix products.
    public var backwardFlops: Double = 0
    /// Targets per backward pass actually used (the batch size, or fewer under the memory budget).
    public var chunkSize: Int? = nil
    public var total: Double { forward + transcoders + logitRows + featureRows + pruning }
    public init() {}
}
