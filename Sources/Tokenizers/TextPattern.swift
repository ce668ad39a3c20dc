import Foundation

/// Text handling shared by the pipeline stages: UTF-16 slicing, regex and literal search,
/// and the five ways `tokenizers` splits a string around the matches of a pattern.
///
/// Offsets are UTF-16 code-unit offsets (what `NSRegularExpression` reports); slices are
/// rebuilt from code units, never through `String.Index` subscripts, which round to
/// grapheme boundaries and would glue a combining mark back onto its base letter.

/// A compiled regular expression. `NSRegularExpression` is immutable and documented as
/// safe to share between threads.
struct CompiledRegex: @unchecked Sendable {
    let regex: NSRegularExpression
    let pattern: String

    /// - Parameters:
    ///   - field: JSON path of the pattern, named in the error.
    /// - Throws: `TokenizerError.invalidRegex`.
    init(_ pattern: String, field: String, file: String) throws {
        do {
            regex = try NSRegularExpression(pattern: pattern, options: [])
        } catch {
            throw TokenizerError.invalidRegex(pattern: pattern, field: field, file: file, reason: "\(error)")
        }
        self.pattern = pattern
    }

    /// Non-overlapping matches, left to right, as UTF-16 ranges; empty matches are dropped
    /// (they would only produce empty pieces, which the pipeline discards).
    func matches(in text: String) -> [Range<Int>] {
        let length = text.utf16.count
        guard length > 0 else { return [] }
        return regex.matches(in: text, options: [], range: NSRange(location: 0, length: length))
            .compactMap { match in
                match.range.length > 0 ? match.range.location..<(match.range.location + match.range.length) : nil
            }
    }
}

/// A `Split` / `Replace` pattern of `tokenizer.json`: `{"String": "…"}` or `{"Regex": "…"}`.
struct TextPattern: Sendable {
    let regex: CompiledRegex

    init(node: ConfigNode, key: String) throws {
        let patternNode = try node.node(key)
        if let literal = try patternNode.optionalString("String") {
            regex = try CompiledRegex(NSRegularExpression.escapedPattern(for: literal),
                                      field: patternNode.fieldPath("String"), file: node.file)
        } else if let expression = try patternNode.optionalString("Regex") {
            regex = try CompiledRegex(expression, field: patternNode.fieldPath("Regex"), file: node.file)
        } else {
            throw TokenizerError.invalidField(patternNode.path, expected: "{\"String\": …} or {\"Regex\": …}", file: node.file)
        }
    }

    /// Every occurrence of the pattern in `text` replaced by `content`.
    func replacingMatches(in text: String, with content: String) -> String {
        let ranges = regex.matches(in: text)
        guard !ranges.isEmpty else { return text }
        let units = Array(text.utf16)
        var result: [UInt16] = []
        result.reserveCapacity(units.count)
        var cursor = 0
        for range in ranges {
            result.append(contentsOf: units[cursor..<range.lowerBound])
            result.append(contentsOf: content.utf16)
            cursor = range.upperBound
        }
        result.append(contentsOf: units[cursor...])
        return String(decoding: result, as: UTF16.self)
    }
}

/// `tokenizers`' `SplitDelimiterBehavior`: what becomes of the matched delimiters.
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(node: ConfigNode, key: String) throws {
        let name = try node.string(key)
        guard let behavior = SplitBehavior(rawValue: name) else {
            throw node.invalid(key, "one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous, not '\(name)'")
        }
        self = behavior
    }

    /// Cuts `[0, length)` around `matches` (sorted, non-overlapping) and returns the kept
    /// pieces, in order, as UTF-16 ranges; empty pieces are dropped.
    ///
    /// Mirrors `NormalizedString::split` in `tokenizers`: the string is first covered by
    /// alternating (range, isMatch) segments; `invert` swaps which are matches.
    func pieces(length: Int, matches: [Range<Int>], invert: Bool) -> [Range<Int>] {
        guard length > 0 else { return [] }
        var segments: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = 0
        for match in matches {
            if previous < match.lowerBound { segments.append((previous..<match.lowerBound, invert)) }
            segments.append((match, !invert))
            previous = match.upperBound
        }
        if previous < length { segments.append((previous..<length, invert)) }

        var kept: [(range: Range<Int>, remove: Bool)] = []
        switch self {
        case .isolated:
            kept = segments.map { ($0.range, false) }
        case .removed:
            kept = segments.map { ($0.range, $0.isMatch) }
        case .mergedWithPrevious:
            var previousMatch = false
            for segment in segments {
                if segment.isMatch, !previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = last.range.lowerBound..<segment.range.upperBound
                } else {
                    kept.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for segment in segments.reversed() {
                if segment.isMatch, !previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = segment.range.lowerBound..<last.range.upperBound
                } else {
                    kept.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
            kept.reverse()
        case .contiguous:
            var previousMatch = false
            for segment in segments {
                if segment.isMatch == previousMatch, let last = kept.last {
                    kept[kept.count - 1].range = last.range.lowerBound..<segment.range.upperBound
                } else {
                    kept.append((segment.range, false))
                }
                previousMatch = segment.isMatch
            }
        }
        return kept.compactMap { $0.remove || $0.range.isEmpty ? nil : $0.range }
    }
}

/// A string's UTF-16 code units, sliced back into exact strings.
struct UTF16Text {
    let units: [UInt16]

    init(_ text: String) { units = Array(text.utf16) }

    var count: Int { units.count }

    subscript(range: Range<Int>) -> String { String(decoding: units[range], as: UTF16.self) }
}
