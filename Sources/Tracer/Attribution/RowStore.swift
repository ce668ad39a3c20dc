import Foundation

/// The adjacency rows visited by the influence-ordered feature selection, packed to the columns
/// that can be non-zero, in memory up to a budget and in an unlinked temporary file beyond it.
///
/// A target at (layer l, position p) — a logit target counts as (nLayers, nPos − 1) — only reads
/// sources written before `resid_mid[l]` at positions ≤ p (causal attention, layer order), so its
/// row in the edge columns of `LinearisedBackward` is exactly zero outside
/// - features of layers l' < l at positions ≤ p: `slotStart[l'·nPos] ..< slotStart[l'·nPos + p + 1]`,
/// - errors of layers l' < l at positions ≤ p,
/// - tokens at positions ≤ p.
/// The packed row is those column ranges in column order: features layer by layer, then
/// `l·(p+1)` errors (layer-major), then `p+1` tokens. Dense rows over all columns would be
/// `nActive ≈ 3.2M` floats each for GPT-2 small at 4,096 tokens (105 GB for 8,192 rows).
final class RowStore: @unchecked Sendable {
    let nLayers: Int
    let nPos: Int
    let nActive: Int
    let slotStart: [Int]
    /// Target (layer, position) of each row.
    private(set) var shapes: [(layer: Int, pos: Int)] = []
    /// Element offset of each row in the store: `[0, memoryCapacity)` in memory, beyond in the file.
    private(set) var offsets: [Int] = []
    /// `Σ_j |A[row, j]|` of each row, summed in column order. `[capacity]`
    let absSums: UnsafeMutablePointer<Float>
    private let capacity: Int
    private let memory: UnsafeMutablePointer<Float>
    private let memoryCapacity: Int
    private var fileDescriptor: Int32 = -1
    private var end = 0

    /// - Parameters:
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
        if fileDescriptor >= 0 { close(fileDescriptor) }
    }

    var count: Int { offsets.count }
    /// Bytes of rows held in memory and in the file.
    var bytesInMemory: Int { 4 * min(end, memoryCapacity) }
    var bytesInFile: Int { 4 * max(0, end - memoryCapacity) }

    /// Number of features of layers < `layer` at positions ≤ `pos`.
    func featureCount(layer: Int, pos: Int) -> Int {
        (0..<layer).reduce(0) { $0 + slotStart[$1 * nPos + pos + 1] - slotStart[$1 * nPos] }
    }

    /// Packed length of a row of a target at (layer, pos).
    func packedLength(layer: Int, pos: Int) -> Int {
        featureCount(layer: layer, pos: pos) + (layer + 1) * (pos + 1)
    }

    /// Reserves row `count` for a target at (layer, pos); call serially, before `write`.
    func append(layer: Int, pos: Int) throws -> Int {
        precondition(count < capacity, "row store is full")
        let n = packedLength(layer: layer, pos: pos)
        if end < memoryCapacity, end + n > memoryCapacity { end = memoryCapacity }   // rows never straddle
        if end + n > memoryCapacity, fileDescriptor < 0 {
            var template = Array((NSTemporaryDirectory() + "/circuits-rows-XXXXXX").utf8CString)
            fileDescriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fileDescriptor >= 0 else { throw TracerError.invalidArgument("cannot create a temporary file for adjacency rows in \(NSTemporaryDirectory()): errno \(errno)") }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        }
        shapes.append((layer, pos))
        offsets.append(end)
        end += n
        return count - 1
    }

    /// Packs the full edge row `values` (`[nActive + (nLayers+1)·nPos]`) of `row` into the store
    /// and records its |·| sum. Rows may be written concurrently.
    func write(row r: Int, values: UnsafePointer<Float>) {
        let (l, p) = shapes[r]
        let n = packedLength(layer: l, pos: p)
        let inMemory = offsets[r] < memoryCapacity
        let dst = inMemory ? memory + offsets[r] : UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { if !inMemory { dst.deallocate() } }
        var k = 0
        for (start, length) in columnRanges(layer: l, pos: p) {
            (dst + k).update(from: values + start, count: length)
            k += length
        }
        // Σ|A[r, j]| in column order, as circuit-tracer sums the dense row (zeros add nothing).
        var sum: Float = 0
        for i in 0..<n { sum += abs(dst[i]) }
        absSums[r] = sum
        if !inMemory {
            let bytes = 4 * n, at = off_t(4 * (offsets[r] - memoryCapacity))
            var done = 0
            while done < bytes {
                let w = pwrite(fileDescriptor, UnsafeRawPointer(dst) + done, bytes - done, at + off_t(done))
                precondition(w > 0, "writing adjacency rows to the temporary file failed: errno \(errno)")
                done += w
            }
        }
    }

    /// The edge-column ranges (start, length) a row of a target at (layer, pos) packs, in order.
    func columnRanges(layer l: Int, pos p: Int) -> [(start: Int, length: Int)] {
        var ranges: [(Int, Int)] = []
        for lp in 0..<l { ranges.append((slotStart[lp * nPos], slotStart[lp * nPos + p + 1] - slotStart[lp * nPos])) }
        for lp in 0..<l { ranges.append((nActive + lp * nPos, p + 1)) }
        ranges.append((nActive + nLayers * nPos, p + 1))
        return ranges
    }

    /// Packed offset of feature column `f` (at `feature`) in a row of a target at (layer, pos), or
    /// nil where the entry is structurally zero. `featureStarts`: `featureStarts(layer:pos:)`.
    @inline(__always)
    func packedIndex(ofFeature f: Int, at feature: ActiveFeature, targetLayer l: Int, targetPos p: Int, featureStarts: [Int]) -> Int? {
        guard feature.layer < l, feature.pos <= p else { return nil }
        return featureStarts[feature.layer] + f - slotStart[feature.layer * nPos]
    }

    /// Packed offset of the first feature of each layer < l in a row of a target at (l, p). `[l]`
    func featureStarts(layer l: Int, pos p: Int) -> [Int] {
        var starts: [Int] = [], k = 0
        for lp in 0..<l { starts.append(k); k += slotStart[lp * nPos + p + 1] - slotStart[lp * nPos] }
        return starts
    }

    /// Calls `body` with row `r`'s packed values (`[packedLength]`), read into `scratch` when
    /// the row is in the file (`scratch` must hold the longest row).
    func withRow<R>(_ r: Int, scratch: UnsafeMutablePointer<Float>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        let (l, p) = shapes[r]
        if offsets[r] < memoryCapacity { return try body(memory + offsets[r]) }
        let bytes = 4 * packedLength(layer: l, pos: p), at = off_t(4 * (offsets[r] - memoryCapacity))
        var done = 0
        while done < bytes {
            let n = pread(fileDescriptor, UnsafeMutableRawPointer(scratch) + done, bytes - done, at + off_t(done))
            precondition(n > 0, "reading adjacency rows back from the temporary file failed: errno \(errno)")
            done += n
        }
        return try body(scratch)
    }
}
