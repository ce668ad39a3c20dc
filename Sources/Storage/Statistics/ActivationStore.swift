/// Transcoder activations of a corpus, one row per non-BOS token position, stored compactly:
/// the position's non-zero features as keys `layer · dTranscoder + feature` (ascending) and
/// their values. The input of the whole-dictionary global weights (`AllPartners`), which
/// streams it once per target: `byFeature()` inverts it (feature → positions).
///
/// CSR: position `p` owns entries `offsets[p] ..< offsets[p + 1]`. Stored as
/// `/stats/activations` of shards (`ActivationStoreFile`).
public struct ActivationStore: Sendable, Equatable {
    public let nLayers: Int
    public let dTranscoder: Int
    /// `[tokens + 1]`
    public private(set) var offsets: [Int] = [0]
    /// `[nnz]`: `layer · dTranscoder + feature`, ascending within a position.
    public private(set) var keys: [Int32] = []
    /// `[nnz]`: the activations (never 0).
    public private(set) var values: [Float] = []

    public init(nLayers: Int, dTranscoder: Int) {
        precondition(nLayers * dTranscoder <= Int(Int32.max), "feature keys must fit 32 bits")
        self.nLayers = nLayers; self.dTranscoder = dTranscoder
    }

    /// Token positions (rows), BOS excluded.
    public var tokens: Int { offsets.count - 1 }
    /// `nLayers · dTranscoder`: every key is below it.
    public var features: Int { nLayers * dTranscoder }

    /// Reserves room for `entries` more activations over `tokens` more positions.
    public mutating func reserve(entries: Int, tokens n: Int) {
        keys.reserveCapacity(keys.count + entries); values.reserveCapacity(values.count + entries)
        offsets.reserveCapacity(offsets.count + n)
    }

    /// Appends one position's features (any order; zeros dropped).
    public mutating func appendToken(keys k: [Int], values v: [Float]) {
        let order = k.indices.filter { v[$0] != 0 }.sorted { k[$0] < k[$1] }
        for i in order {
            precondition((0..<features).contains(k[i]), "feature key \(k[i]) outside \(nLayers) × \(dTranscoder)")
            keys.append(Int32(k[i])); values.append(v[i])
        }
        offsets.append(keys.count)
    }

    /// Appends one prompt: `features[k]` = (layer, position ≥ 1, index) has `values[k]`;
    /// positions `1 ..< nTokens` each become a row (empty when nothing is active there).
    public mutating func appendPrompt(features: [(layer: Int, pos: Int, index: Int)], values v: [Float], nTokens: Int) {
        var rows = [[Int]](repeating: [], count: max(0, nTokens - 1)), rowValues = [[Float]](repeating: [], count: max(0, nTokens - 1))
        for (a, x) in zip(features, v) {
            precondition(a.pos >= 1 && a.pos < nTokens, "position \(a.pos) outside 1..<\(nTokens)")
            rows[a.pos - 1].append(a.layer * dTranscoder + a.index); rowValues[a.pos - 1].append(x)
        }
        for (k, x) in zip(rows, rowValues) { appendToken(keys: k, values: x) }
    }

    /// Appends another store's rows (same shape), e.g. the next shard's.
    public mutating func append(_ other: ActivationStore) {
        precondition(other.nLayers == nLayers && other.dTranscoder == dTranscoder, "stores of different transcoders")
        let base = keys.count
        keys += other.keys; values += other.values
        offsets += other.offsets.dropFirst().map { $0 + base }
    }

    /// Builds a store from its arrays, checking them (file input: `file`, `object` name it in errors).
    public init(nLayers: Int, dTranscoder: Int, offsets: [Int], keys: [Int32], values: [Float], file: String, object: String) throws {
        self.init(nLayers: nLayers, dTranscoder: dTranscoder)
        guard offsets.first == 0, offsets.last == keys.count, keys.count == values.count,
              zip(offsets, offsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw SchemaError(file: file, object: object, detail: "offsets (\(offsets.count)) do not index \(keys.count) keys and \(values.count) values")
        }
        let n = Int32(nLayers * dTranscoder)
        for p in 0..<(offsets.count - 1) where offsets[p] < offsets[p + 1] {
            for i in offsets[p]..<offsets[p + 1] where keys[i] < 0 || keys[i] >= n || (i > offsets[p] && keys[i] <= keys[i - 1]) {
                throw SchemaError(file: file, object: object, detail: "position \(p) has key \(keys[i]) out of order or outside \(nLayers) × \(dTranscoder)")
            }
        }
        self.offsets = offsets; self.keys = keys; self.values = values
    }

    /// The store by feature (CSC): feature `f` is active at positions
    /// `positions[offsets[f] ..< offsets[f + 1]]` (ascending) with `values` there.
    public struct ByFeature: Sendable {
        /// `[features + 1]`
        public var offsets: [Int]
        /// `[nnz]`
        public var positions: [Int32]
        /// `[nnz]`
        public var values: [Float]
    }

    /// The inverse index, by a counting sort (positions stay ascending per feature).
    public func byFeature() -> ByFeature {
        precondition(tokens <= Int(Int32.max), "positions must fit 32 bits")
        var start = [Int](repeating: 0, count: features + 1)
        for k in keys { start[Int(k) + 1] += 1 }
        for f in 0..<features { start[f + 1] += start[f] }
        var next = start
        var positions = [Int32](repeating: 0, count: keys.count), out = [Float](repeating: 0, count: keys.count)
        keys.withUnsafeBufferPointer { k in
            values.withUnsafeBufferPointer { v in
                for p in 0..<tokens {
                    for i in offsets[p]..<offsets[p + 1] {
                        let f = Int(k[i]), j = next[f]
                        positions[j] = Int32(p); out[j] = v[i]; next[f] = j + 1
                    }
                }
            }
        }
        return ByFeature(offsets: start, positions: positions, values: out)
    }
}
