import Foundation

/// The adjacency rows visited by the influence-ordered feature selection, packed to the columns
/// that can be non-zero, in memory up to a budget and in an unlinked temporary file beyond it.
///
/// A target at (layer l, position p) — a logit target counts as (nLayers, nPos − 1) — only reads
/// sources written before `resid_mid[l]` at positions ≤ p (causal attention, layer order), so its
/// row in the edge columns of `LinearisedBackward` is exactly zero outside the columns that
/// `PackedRowLayout` keeps. Dense rows over all columns would be `nActive ≈ 3.2M` floats each for
/// GPT-2 small at 4,096 tokens (105 GB for 8,192 rows).
///
/// The store is the one place that knows the packed layout: callers read a row through
/// `packedLayout(ofRow:)` (feature segments, `packedIndex(ofFeature:at:)`) or unpack it into its
/// graph columns with `unpack(row:into:layout:selected:activeFeatures:scratch:)`.
final class RowStore: @unchecked Sendable {
    let nLayers: Int
    let nPos: Int
    let nActive: Int
    let slotStart: [Int]
    /// Target (layer, position) of each row.
    private var shapes: [(layer: Int, pos: Int)] = []
    /// Element offset of each row in the store: `[0, memoryCapacity)` in memory, beyond in the file.
    private var offsets: [Int] = []
    /// `Σ_j |A[row, j]|` of each row, summed in packed (= column) order. `[capacity]`
    let absSums: UnsafeMutablePointer<Float>
    private let capacity: Int
    private let memory: UnsafeMutablePointer<Float>
    private let memoryCapacity: Int
    private var fileDescriptor: Int32?
    private var end = 0

    /// - Parameters:
    ///   - slotStart: `FeatureActivations.slotStart`, `[nLayers·nPos + 1]`.
    ///   - capacity: the most rows that will be appended.
    ///   - memoryBytes: rows beyond this many bytes go to a temporary file.
    init(nLayers: Int, nPos: Int, slotStart: [Int], capacity: Int, memoryBytes: Int) {
        self.nLayers = nLayers
        self.nPos = nPos
        self.slotStart = slotStart
        self.nActive = slotStart.last ?? 0
        self.capacity = capacity
        absSums = .allocate(capacity: max(capacity, 1))
        absSums.initialize(repeating: 0, count: max(capacity, 1))
        memoryCapacity = memoryBytes / 4
        // Virtual reservation only: pages count once rows are written to them.
        memory = .allocate(capacity: max(memoryCapacity, 1))
    }

    deinit {
        absSums.deallocate()
        memory.deallocate()
        if let fileDescriptor { close(fileDescriptor) }
    }

    var count: Int { offsets.count }
    /// Bytes of rows held in memory and in the file.
    var bytesInMemory: Int { 4 * min(end, memoryCapacity) }
    var bytesInFile: Int { 4 * max(0, end - memoryCapacity) }

    /// Packed length of a row of a target at (layer, pos).
    func packedLength(layer: Int, pos: Int) -> Int { packedLayout(layer: layer, pos: pos).length }

    /// The packed layout of a row of a target at (layer, pos).
    func packedLayout(layer: Int, pos: Int) -> PackedRowLayout {
        PackedRowLayout(layer: layer, pos: pos, nLayers: nLayers, nPos: nPos, slotStart: slotStart)
    }

    /// The packed layout of stored row `r`.
    func packedLayout(ofRow r: Int) -> PackedRowLayout {
        packedLayout(layer: shapes[r].layer, pos: shapes[r].pos)
    }

    /// Reserves row `count` for a target at (layer, pos); call serially, before `write`.
    /// - Returns: the row's index.
    func append(layer: Int, pos: Int) throws -> Int {
        precondition(count < capacity, "row store is full")
        let n = packedLength(layer: layer, pos: pos)
        if end < memoryCapacity, end + n > memoryCapacity { end = memoryCapacity }   // rows never straddle
        if end + n > memoryCapacity, fileDescriptor == nil {
            var template = Array((NSTemporaryDirectory() + "/circuits-rows-XXXXXX").utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { throw TracerError.invalidArgument("cannot create a temporary file for adjacency rows in \(NSTemporaryDirectory()): errno \(errno)") }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            fileDescriptor = fd
        }
        shapes.append((layer, pos))
        offsets.append(end)
        end += n
        return count - 1
    }

    /// Packs the full edge row `values` (`[nActive + (nLayers+1)·nPos]`) of `row` into the store
    /// and records `absSums[row] = Σ_j |values[j]|`. Rows may be written concurrently.
    func write(row r: Int, values: UnsafePointer<Float>) {
        let packed = packedLayout(ofRow: r)
        let n = packed.length
        let inMemory = offsets[r] < memoryCapacity
        let dst = inMemory ? memory + offsets[r] : UnsafeMutablePointer<Float>.allocate(capacity: n)   // [n]
        defer { if !inMemory { dst.deallocate() } }
        for s in packed.segments { (dst + s.packed).update(from: values + s.column, count: s.count) }
        // Σ|A[r, j]| in column order, as circuit-tracer sums the dense row (zeros add nothing).
        var sum: Float = 0
        for i in 0..<n { sum += abs(dst[i]) }
        absSums[r] = sum
        if !inMemory {
            let bytes = 4 * n, at = off_t(4 * (offsets[r] - memoryCapacity))
            var done = 0
            while done < bytes {
                let w = pwrite(fileDescriptor!, UnsafeRawPointer(dst) + done, bytes - done, at + off_t(done))
                precondition(w > 0, "writing adjacency rows to the temporary file failed: errno \(errno)")
                done += w
            }
        }
    }

    /// Calls `body` with row `r`'s packed values (`[packedLength]`), read into `scratch` when
    /// the row is in the file (`scratch` must hold the longest row).
    func withRow<R>(_ r: Int, scratch: UnsafeMutablePointer<Float>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        let (l, p) = shapes[r]
        if offsets[r] < memoryCapacity { return try body(memory + offsets[r]) }
        let bytes = 4 * packedLength(layer: l, pos: p), at = off_t(4 * (offsets[r] - memoryCapacity))
        var done = 0
        while done < bytes {
            let n = pread(fileDescriptor!, UnsafeMutableRawPointer(scratch) + done, bytes - done, at + off_t(done))
            precondition(n > 0, "reading adjacency rows back from the temporary file failed: errno \(errno)")
            done += n
        }
        return try body(scratch)
    }

    /// Writes stored row `r` into its graph row `dst` (`[layout.count]`, in `layout`'s node order):
    /// `dst[i] = A[r, selected[i]]` for each selected feature the row keeps, and the row's errors
    /// and tokens at their nodes. Entries the row does not keep are left as they are.
    ///
    /// - Parameters:
    ///   - selected: the active-feature index of each feature node, `[layout.nFeatures]`.
    ///   - activeFeatures: `FeatureActivations.activeFeatures`, `[nActive]`.
    ///   - scratch: as for `withRow`.
    func unpack(row r: Int, into dst: UnsafeMutablePointer<Float>, layout: NodeLayout, selected: [Int],
                activeFeatures: [ActiveFeature], scratch: UnsafeMutablePointer<Float>) {
        let packed = packedLayout(ofRow: r)
        withRow(r, scratch: scratch) { row in   // [packed.length]
            for (i, f) in selected.enumerated() {
                if let k = packed.packedIndex(ofFeature: f, at: activeFeatures[f]) { dst[layout.index(of: .feature(selected: i))] = row[k] }
            }
            for (lp, s) in packed.errors.enumerated() {
                (dst + layout.index(of: .error(layer: lp, pos: 0))).update(from: row + s.packed, count: s.count)
            }
            (dst + layout.index(of: .token(pos: 0))).update(from: row + packed.tokens.packed, count: packed.tokens.count)
        }
    }
}

/// Which edge columns a packed row of a target at (layer l, position p) keeps, and where: the
/// column ranges that can be non-zero, in column order —
/// 1. features of each layer l' < l at positions ≤ p: `slotStart[l'·nPos] ..< slotStart[l'·nPos + p + 1]`;
/// 2. errors of each layer l' < l at positions ≤ p: `nActive + l'·nPos ..< nActive + l'·nPos + p + 1`;
/// 3. tokens at positions ≤ p: `nActive + nLayers·nPos ..< nActive + nLayers·nPos + p + 1`.
struct PackedRowLayout {
    /// Edge columns `column ..< column + count`, kept at packed offsets `packed ..< packed + count`.
    struct Segment {
        let column: Int
        let packed: Int
        let count: Int
    }

    let layer: Int
    let pos: Int
    /// Features of each source layer l' < `layer`. `[layer]`
    let features: [Segment]
    /// Errors of each source layer l' < `layer`. `[layer]`
    let errors: [Segment]
    /// Tokens.
    let tokens: Segment

    init(layer l: Int, pos p: Int, nLayers: Int, nPos: Int, slotStart: [Int]) {
        let nActive = slotStart.last ?? 0
        var features: [Segment] = [], errors: [Segment] = [], k = 0
        features.reserveCapacity(l)
        errors.reserveCapacity(l)
        for lp in 0..<l {
            let start = slotStart[lp * nPos]
            features.append(Segment(column: start, packed: k, count: slotStart[lp * nPos + p + 1] - start))
            k += features[lp].count
        }
        for lp in 0..<l {
            errors.append(Segment(column: nActive + lp * nPos, packed: k, count: p + 1))
            k += p + 1
        }
        layer = l
        pos = p
        self.features = features
        self.errors = errors
        tokens = Segment(column: nActive + nLayers * nPos, packed: k, count: p + 1)
    }

    /// All kept segments in packed (= column) order.
    var segments: [Segment] { features + errors + [tokens] }
    /// Packed length of the row.
    var length: Int { tokens.packed + tokens.count }
    /// Packed length of the feature segments (they come first).
    var featureLength: Int { errors.first?.packed ?? tokens.packed }

    /// Packed offset of feature column `f` (the active feature `feature`), or nil where the
    /// entry is structurally zero (a feature of a layer ≥ `layer` or a position > `pos`).
    @inline(__always)
    func packedIndex(ofFeature f: Int, at feature: ActiveFeature) -> Int? {
        guard feature.layer < layer, feature.pos <= pos else { return nil }
        let s = features[feature.layer]
        return s.packed + f - s.column
    }
}
