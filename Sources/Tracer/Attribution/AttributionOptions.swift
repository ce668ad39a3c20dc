import Storage

/// Parameters of `attribute`, with circuit-tracer's defaults.
public struct AttributionOptions: Sendable, Equatable {
    /// At most this many logit targets (`max_n_logits`).
    public var maxLogits: Int = 10
    /// Stop adding logit targets once their cumulative probability reaches this (`desired_logit_prob`).
    public var desiredLogitProbability: Double = 0.95
    /// Targets per backward pass (`batch_size`).
    public var batchSize: Int = 256
    /// At most this many feature nodes, chosen by influence (`max_feature_nodes`; nil: all).
    public var maxFeatureNodes: Int? = nil
    /// Batches between re-rankings of the features by partial influence (`update_interval`).
    public var updateInterval: Int = 4
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

    public init(maxLogits: Int = 10, desiredLogitProbability: Double = 0.95, batchSize: Int = 256,
                maxFeatureNodes: Int? = nil, updateInterval: Int = 4, threads: Int? = nil,
                workerMemoryBytes: Int = AttributionOptions.defaultWorkerMemoryBytes,
                rowMemoryBytes: Int = AttributionOptions.defaultRowMemoryBytes,
                decoderCacheBytes: Int = AttributionOptions.defaultDecoderCacheBytes) {
        self.threads = threads
        self.workerMemoryBytes = workerMemoryBytes
        self.rowMemoryBytes = rowMemoryBytes
        self.decoderCacheBytes = decoderCacheBytes
        self.maxLogits = maxLogits
        self.desiredLogitProbability = desiredLogitProbability
        self.batchSize = batchSize
        self.maxFeatureNodes = maxFeatureNodes
        self.updateInterval = updateInterval
    }

    /// Checks ranges; the message names the option.
    public func validate() throws {
        guard maxLogits >= 1 else { throw TracerError.invalidArgument("max logits must be at least 1 (got \(maxLogits))") }
        guard desiredLogitProbability > 0, desiredLogitProbability <= 1 else {
            throw TracerError.invalidArgument("logit probability must be in (0, 1] (got \(desiredLogitProbability))")
        }
        guard batchSize >= 1 else { throw TracerError.invalidArgument("batch size must be at least 1 (got \(batchSize))") }
        if let m = maxFeatureNodes, m < 0 { throw TracerError.invalidArgument("max feature nodes must be ≥ 0 (got \(m))") }
        if let t = threads, t < 1 { throw TracerError.invalidArgument("threads must be at least 1 (got \(t))") }
        guard workerMemoryBytes >= 0, rowMemoryBytes >= 0, decoderCacheBytes >= 0 else {
            throw TracerError.invalidArgument("memory budgets must be ≥ 0 bytes")
        }
        guard updateInterval >= 1 else { throw TracerError.invalidArgument("update interval must be at least 1 (got \(updateInterval))") }
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
