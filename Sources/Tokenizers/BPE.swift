import Foundation

/// A byte-pair-encoding model (`"type": "BPE"`), as `tokenizers` applies it to one word.
///
/// A word starts as one symbol per character (with `continuing_subword_prefix` on all but
/// the first and `end_of_word_suffix` on the last). Characters missing from the vocabulary
/// become `<0xXX>` byte tokens (`byte_fallback`) or the unknown token (fused into one when
/// `fuse_unk`), or vanish when the model has no unknown token. Then the adjacent pair with the
/// lowest merge rank (leftmost on ties) is merged, repeatedly, until no pair has a merge.
struct BPEModel: Sendable {
    let vocabulary: Vocabulary
    /// `merges[pairKey(a, b)]`: the rank (line of `merges`) and the id of `a + b`.
    private let merges: [UInt64: Merge]
    let unkToken: String?
    private let unkTokenId: Int?
    private let continuingSubwordPrefix: String?
    private let endOfWordSuffix: String?
    private let fuseUnk: Bool
    private let ignoreMerges: Bool
    private let byteFallback: Bool
    /// `byteTokenIds[b]`: the id of `<0xXX>` when `byte_fallback` is on and it exists.
    private let byteTokenIds: [Int?]

    struct Merge: Sendable {
        let rank: Int32
        let newId: Int32
    }

    /// Reads a `model` object of type `BPE`.
    ///
    /// - Throws: `TokenizerError` for a missing vocabulary, a malformed merge, a merge naming
    ///   a token missing from the vocabulary, or `dropout` (sampling is not reproducible).
    init(node: ConfigNode) throws {
        guard case let .object(vocabObject)? = node.value("vocab") else {
            throw TokenizerError.missingField(node.fieldPath("vocab"), file: node.file)
        }
        vocabulary = try Vocabulary(object: vocabObject, field: node.fieldPath("vocab"), file: node.file)
        if case let .double(dropout)? = node.value("dropout"), dropout > 0 {
            throw node.invalid("dropout", "null or 0 (BPE dropout samples merges at random), not \(dropout)")
        }
        unkToken = try node.optionalString("unk_token")
        unkTokenId = unkToken.flatMap(vocabulary.id(of:))
        continuingSubwordPrefix = try node.optionalString("continuing_subword_prefix")
        endOfWordSuffix = try node.optionalString("end_of_word_suffix")
        fuseUnk = try node.bool("fuse_unk", default: false)
        ignoreMerges = try node.bool("ignore_merges", default: false)
        let byteFallback = try node.bool("byte_fallback", default: false)
        self.byteFallback = byteFallback
        let vocabulary = self.vocabulary
        byteTokenIds = (0..<256).map { byte in
            byteFallback ? vocabulary.id(of: "<0x" + Self.hex(UInt8(byte)) + ">") : nil
        }
        merges = try Self.readMerges(node: node, vocabulary: vocabulary, prefix: continuingSubwordPrefix)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        return String(String.UnicodeScalarView([digits[Int(byte >> 4)], digits[Int(byte & 15)]]))
    }

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    /// `merges` as `"a b"` strings (older files) or `["a", "b"]` pairs (newer files).
    private static func readMerges(node: ConfigNode, vocabulary: Vocabulary, prefix: String?) throws -> [UInt64: Merge] {
        let field = node.fieldPath("merges")
        let entries = try node.array("merges")
        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(entries.count)
        for (rank, entry) in entries.enumerated() {
            let left: String, right: String
            switch entry {
            case let .string(line):
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.invalidField("\(field)[\(rank)]", expected: "two tokens separated by one space, not '\(line)'", file: node.file)
                }
                (left, right) = (String(parts[0]), String(parts[1]))
            case let .array(pair):
                guard pair.count == 2, case let .string(first) = pair[0], case let .string(second) = pair[1] else {
                    throw TokenizerError.invalidField("\(field)[\(rank)]", expected: "a pair of strings", file: node.file)
                }
                (left, right) = (first, second)
            default:
                throw TokenizerError.invalidField("\(field)[\(rank)]", expected: "a string or a pair of strings, not \(entry.kindName)", file: node.file)
            }
            // The merged token drops the right part's continuation prefix ("##").
            var rightTail = Substring(right).unicodeScalars[...]
            if let prefix, right.utf8.starts(with: prefix.utf8) { rightTail = rightTail.dropFirst(prefix.unicodeScalars.count) }
            let merged = left + String(String.UnicodeScalarView(rightTail))
            let description = "\(left) \(right)"
            guard let leftId = vocabulary.id(of: left) else { throw TokenizerError.mergeOutOfVocabulary(merge: description, token: left, file: node.file) }
            guard let rightId = vocabulary.id(of: right) else { throw TokenizerError.mergeOutOfVocabulary(merge: description, token: right, file: node.file) }
            guard let newId = vocabulary.id(of: merged) else { throw TokenizerError.mergeOutOfVocabulary(merge: description, token: merged, file: node.file) }
            merges[pairKey(leftId, rightId)] = Merge(rank: Int32(rank), newId: Int32(newId))
        }
        return merges
    }

    /// The ids of one pre-tokenized word.
    ///
    /// - Throws: `TokenizerError.unknownToken` when a character needs the unknown token and
    ///   `unk_token` names no vocabulary entry.
    /// - Complexity: O(n log n) in the word's length.
    func tokenize(_ word: String) throws -> [Int] {
        if word.isEmpty { return [] }
        if ignoreMerges, let id = vocabulary.id(of: word) { return [id] }
        var symbols = try initialSymbols(word)
        mergeAll(&symbols)
        return symbols
    }

    /// One id per character (or per byte, or one fused unknown), before any merge.
    private func initialSymbols(_ word: String) throws -> [Int] {
        var symbols: [Int] = []
        symbols.reserveCapacity(word.unicodeScalars.count)
        var pendingUnknown = false
        let scalars = Array(word.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            var piece = String(scalar)
            if index > 0, let prefix = continuingSubwordPrefix { piece = prefix + piece }
            if index == scalars.count - 1, let suffix = endOfWordSuffix { piece += suffix }
            if let id = vocabulary.id(of: piece) {
                if pendingUnknown, let unk = unkTokenId { symbols.append(unk) }
                pendingUnknown = false
                symbols.append(id)
                continue
            }
            if byteFallback {
                // As in `tokenizers`, a pending unknown is not flushed before byte tokens.
                let bytes = Array(piece.utf8)
                let ids = bytes.compactMap { byteTokenIds[Int($0)] }
                if ids.count == bytes.count {
                    symbols.append(contentsOf: ids)
                    continue
                }
            }
            guard let unkToken else { continue }  // no unknown token: the character is dropped
            guard let unk = unkTokenId else { throw TokenizerError.unknownToken(unkToken) }
            if pendingUnknown, !fuseUnk { symbols.append(unk) }
            pendingUnknown = true
        }
        if pendingUnknown, let unk = unkTokenId { symbols.append(unk) }
        return symbols
    }

    /// Applies merges in rank order, exactly as `tokenizers`' `Word::merge_all` (dropout 0):
    /// a priority queue of (rank, position) candidates, stale entries skipped when popped.
    private func mergeAll(_ symbols: inout [Int]) {
        let count = symbols.count
        guard count > 1 else { return }
        // Doubly linked list over the symbol slots; removed slots have alive = false.
        var previous = [Int](repeating: -1, count: count)
        var next = [Int](repeating: -1, count: count)
        var alive = [Bool](repeating: true, count: count)
        var queue = MergeQueue()
        for position in 0..<count {
            previous[position] = position - 1
            next[position] = position + 1 < count ? position + 1 : -1
            if position + 1 < count, let merge = merges[Self.pairKey(symbols[position], symbols[position + 1])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), newId: merge.newId))
            }
        }
        while let top = queue.pop() {
            let position = Int(top.position)
            guard alive[position], next[position] != -1 else { continue }
            let right = next[position]
            guard let current = merges[Self.pairKey(symbols[position], symbols[right])], current.newId == top.newId else { continue }
            symbols[position] = Int(top.newId)
            alive[right] = false
            next[position] = next[right]
            if next[right] != -1 { previous[next[right]] = position }
            if previous[position] != -1, let merge = merges[Self.pairKey(symbols[previous[position]], symbols[position])] {
                queue.push(.init(rank: merge.rank, position: Int32(previous[position]), newId: merge.newId))
            }
            if next[position] != -1, let merge = merges[Self.pairKey(symbols[position], symbols[next[position]])] {
                queue.push(.init(rank: merge.rank, position: Int32(position), newId: merge.newId))
            }
        }
        symbols = (0..<count).compactMap { alive[$0] ? symbols[$0] : nil }
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
struct MergeQueue {
    struct Entry {
        let rank: Int32
        let position: Int32
        let newId: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var heap: [Entry] = []

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count, heap[left].precedes(heap[best]) { best = left }
                if right < heap.count, heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
