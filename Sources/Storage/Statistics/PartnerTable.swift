/// One partner of a feature in the whole-dictionary global weights: the other feature (key
/// `layer · dTranscoder + feature`), the pair's V, ERA, TWERA and co-activation count, and the
/// ranking score (|TWERA|, |ERA| or |V| by `PartnerRanking`).
public struct Partner: Sendable, Equatable {
    public var partner: Int32
    public var virtualWeight: Float
    public var era: Float
    public var twera: Float
    public var count: Int32
    public var score: Float
    public init(partner: Int32, virtualWeight: Float, era: Float, twera: Float, count: Int32, score: Float) {
        self.partner = partner; self.virtualWeight = virtualWeight; self.era = era; self.twera = twera
        self.count = count; self.score = score
    }
    /// The total order of every list: higher score first, then the lower partner key (so that
    /// top-k of a union is the top-k of the parts' top-k: merges are exact and order-free).
    @inlinable public func ranks(before o: Partner) -> Bool { score > o.score || (score == o.score && partner < o.partner) }
}

/// How a partner list is ranked.
public enum PartnerRanking: String, CaseIterable, Sendable {
    /// |TWERA| among co-active pairs.
    case twera
    /// |ERA| among co-active pairs.
    case era
    /// |V| among pairs never active together: the weights the co-activation filter removed.
    case interference
}

/// The `k` best partners of every feature under one ranking, kept as bounded lists.
///
/// Rows of distinct features may be offered to from distinct threads at once (each row is its
/// own memory; nothing else is shared), which is why this is a class over raw buffers.
/// Memory: `features · k · 24` bytes plus `8 · features`.
public final class PartnerTable: @unchecked Sendable {
    public let features: Int
    public let k: Int
    /// `[features, k]`: the kept entries of each row, unordered until `sorted(row:)`.
    @usableFromInline let slots: UnsafeMutableBufferPointer<Partner>
    /// `[features]`: entries kept per row.
    @usableFromInline let sizes: UnsafeMutableBufferPointer<Int32>
    /// `[features]`: the score of the row's last-ranked entry once it is full (else −1), and its slot.
    @usableFromInline let worst: UnsafeMutableBufferPointer<Float>
    @usableFromInline let worstSlot: UnsafeMutableBufferPointer<Int32>

    public init(features: Int, k: Int) {
        precondition(k >= 1, "k must be at least 1")
        self.features = features; self.k = k
        slots = .allocate(capacity: features * k)
        sizes = .allocate(capacity: features); sizes.initialize(repeating: 0)
        worst = .allocate(capacity: features); worst.initialize(repeating: -1)
        worstSlot = .allocate(capacity: features); worstSlot.initialize(repeating: 0)
    }

    /// Bytes a table of this shape holds.
    public static func bytes(features: Int, k: Int) -> Int { features * (k * MemoryLayout<Partner>.stride + 12) }

    deinit { slots.deallocate(); sizes.deallocate(); worst.deallocate(); worstSlot.deallocate() }

    /// Offers `p` to `row`'s list: kept when its score is positive and it ranks before the
    /// list's last entry (or the list has room). O(1) when rejected, O(k) when kept.
    @inlinable @inline(__always)
    public func offer(_ p: Partner, row: Int) {
        guard p.score > 0, p.score >= worst[row] else { return }
        insert(p, row: row)
    }

    @usableFromInline func insert(_ p: Partner, row: Int) {
        let base = row * k, n = Int(sizes[row])
        if n < k {
            slots[base + n] = p
            sizes[row] = Int32(n + 1)
            if n + 1 == k { findWorst(row) }
            return
        }
        let w = Int(worstSlot[row])
        guard p.ranks(before: slots[base + w]) else { return }
        slots[base + w] = p
        findWorst(row)
    }

    func findWorst(_ row: Int) {
        let base = row * k
        var w = 0
        for i in 1..<k where slots[base + w].ranks(before: slots[base + i]) { w = i }
        worst[row] = slots[base + w].score
        worstSlot[row] = Int32(w)
    }

    /// Offers every entry of `other` (same shape): afterwards each row holds the top k of both.
    public func absorb(_ other: PartnerTable) {
        precondition(other.features == features && other.k == k, "partner tables of different shapes")
        for row in 0..<features {
            for i in 0..<Int(other.sizes[row]) { offer(other.slots[row * k + i], row: row) }
        }
    }

    /// Entries kept in `row`.
    public func count(row: Int) -> Int { Int(sizes[row]) }

    /// `row`'s entries, best first.
    public func sorted(row: Int) -> [Partner] {
        Array(slots[(row * k)..<(row * k + Int(sizes[row]))]).sorted { $0.ranks(before: $1) }
    }
}
