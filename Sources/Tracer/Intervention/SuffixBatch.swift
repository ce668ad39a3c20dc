/// The rows of a batch of intervened passes on one prompt of `nPos` positions. Attention is
/// causal, so every position before a pass's first intervened one is exactly the clean run's,
/// in every mode: segment `b` holds only positions `starts[b]..<nPos`, and the earlier ones
/// are read from the clean run (`CleanPrefix`). For a graph's strongest features, most at the
/// last positions, this recomputes a few rows per pass instead of the whole prompt.
struct SuffixBatch {
    /// The first position of each segment.
    let starts: [Int]
    /// The batch's rows of each segment.
    let segments: [Range<Int>]
    /// The prompt position of every row of the batch. `[rows]`
    let positions: [Int]
    let nPos: Int

    var rows: Int { positions.count }

    /// A segment from each start (`0..<nPos`) to the prompt's end.
    init(starts: [Int], nPos: Int) {
        precondition(starts.allSatisfy { (0..<nPos).contains($0) }, "a segment start outside the prompt")
        self.starts = starts
        self.nPos = nPos
        var segments: [Range<Int>] = [], positions: [Int] = []
        for p in starts {
            segments.append(positions.count..<(positions.count + nPos - p))
            positions += p..<nPos
        }
        self.segments = segments
        self.positions = positions
    }

    /// The prompt's rows `a` (`[nPos, width]`) at every row of the batch. `[rows, width]`
    func gather<T>(_ a: [T], width: Int) -> [T] {
        precondition(a.count == nPos * width, "gathering rows of another prompt")
        var out: [T] = []
        out.reserveCapacity(rows * width)
        for p in positions { out += a[(p * width)..<((p + 1) * width)] }
        return out
    }

    /// Segment `b`'s pass at every position of the prompt (`[nPos, width]`): the clean run's
    /// rows `clean` (`[nPos, width]`) before its start, the batch's rows `batch` (`[rows, width]`) after.
    func whole(_ b: Int, _ batch: [Float], clean: [Float], width: Int) -> [Float] {
        let s = segments[b]
        return Array(clean[0..<(starts[b] * width)]) + batch[(s.lowerBound * width)..<(s.upperBound * width)]
    }

    /// The batch row of position `position` in segment `b` (at or after its start).
    func row(_ b: Int, position: Int) -> Int { segments[b].lowerBound + position - starts[b] }
}
