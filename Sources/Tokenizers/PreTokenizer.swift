import Foundation

/// A stretch of text on its way through the pipeline: either an added token already
/// matched (`tokenId` set) or text still to be pre-tokenized and fed to the model.
struct Piece: Sendable {
    var text: String
    /// The id of an added token matched before the model; nil for ordinary text.
    var tokenId: Int?
    /// True when the piece starts at offset 0 of the original text (`tokenizers`'
    /// `offsets_original().0 == 0`, read by `Metaspace` with `prepend_scheme: "first"`).
    var atTextStart: Bool
}

/// `Metaspace`'s `prepend_scheme`: when to put the replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    case always, first, never
}

/// The `pre_tokenizer` of `tokenizer.json`: cuts normalized text into the words the model
/// tokenizes one by one.
indirect enum PreTokenizer: Sendable {
    case sequence([PreTokenizer])
    /// GPT-2 style: optional prefix space, the GPT-2 regex (when `use_regex`; nil otherwise),
    /// then every byte written in the byte-level alphabet.
    case byteLevel(addPrefixSpace: Bool, regex: CompiledRegex?)
    /// Cut around the matches of a pattern (Llama-3 / Qwen regexes use `Isolated`).
    case split(TextPattern, behavior: SplitBehavior, invert: Bool)
    /// Runs of word characters and runs of other non-space characters (`\w+|[^\w\s]+`).
    case whitespace
    /// Cut at white space, which is dropped.
    case whitespaceSplit
    /// SentencePiece style: spaces become `replacement`, which is prepended and starts each word.
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    /// Digits apart from the rest, each alone when `individual`.
    case digits(individual: Bool)
    /// Punctuation characters apart from the rest.
    case punctuation(SplitBehavior)

    /// The types read by `init(node:)`.
    static let supportedTypes = "Sequence, ByteLevel, Split, Whitespace, WhitespaceSplit, Metaspace, Digits, Punctuation"

    /// Reads a `pre_tokenizer` object.
    ///
    /// - Throws: `TokenizerError.unsupportedComponent` naming the type and file for any other type.
    init(node: ConfigNode) throws {
        let type = try node.type()
        switch type {
        case "Sequence":
            self = .sequence(try node.nodes("pretokenizers").map(PreTokenizer.init(node:)))
        case "ByteLevel":
            let regex = try node.bool("use_regex", default: true)
                ? CompiledRegex(ByteLevel.gpt2Pattern, field: node.fieldPath("use_regex"), file: node.file) : nil
            self = .byteLevel(addPrefixSpace: try node.bool("add_prefix_space", default: true), regex: regex)
        case "Split":
            self = .split(try TextPattern(node: node, key: "pattern"),
                          behavior: try SplitBehavior(node: node, key: "behavior"),
                          invert: try node.bool("invert", default: false))
        case "Whitespace":
            self = .whitespace
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Metaspace":
            let scheme: PrependScheme
            if let name = try node.optionalString("prepend_scheme") {
                guard let parsed = PrependScheme(rawValue: name) else { throw node.invalid("prepend_scheme", "always, first or never, not '\(name)'") }
                scheme = parsed
            } else {
                // Files written before `prepend_scheme` existed carry `add_prefix_space`.
                scheme = try node.bool("add_prefix_space", default: true) ? .always : .never
            }
            self = .metaspace(replacement: try node.character("replacement", default: "\u{2581}"),
                              prependScheme: scheme, split: try node.bool("split", default: true))
        case "Digits":
            self = .digits(individual: try node.bool("individual_digits", default: false))
        case "Punctuation":
            self = .punctuation(node.value("behavior") == nil ? .isolated : try SplitBehavior(node: node, key: "behavior"))
        default:
            throw TokenizerError.unsupportedComponent(kind: "pre_tokenizer (supported: \(Self.supportedTypes))", type: type, file: node.file)
        }
    }

    /// Cuts every piece without a token id; pieces with one pass through untouched.
    func preTokenize(_ pieces: [Piece]) -> [Piece] {
        if case let .sequence(steps) = self {
            return steps.reduce(pieces) { $1.preTokenize($0) }
        }
        var result: [Piece] = []
        result.reserveCapacity(pieces.count)
        for piece in pieces {
            if piece.tokenId != nil { result.append(piece) } else { result.append(contentsOf: split(piece)) }
        }
        return result
    }

    /// One piece of ordinary text cut into pieces (never `.sequence`).
    private func split(_ piece: Piece) -> [Piece] {
        switch self {
        case .sequence:
            return preTokenize([piece])
        case let .byteLevel(addPrefixSpace, regex):
            var text = piece.text
            if addPrefixSpace, text.unicodeScalars.first != " " { text = " " + text }
            let whole = Piece(text: text, atTextStart: piece.atTextStart)
            let words = regex.map { Self.cut(whole, matches: $0.matches(in: text), behavior: .isolated, invert: false) } ?? [whole]
            return words.map { Piece(text: ByteLevel.encode($0.text), atTextStart: $0.atTextStart) }
        case let .split(pattern, behavior, invert):
            return Self.cut(piece, matches: pattern.regex.matches(in: piece.text), behavior: behavior, invert: invert)
        case .whitespace:
            return Self.wordRuns(piece)
        case .whitespaceSplit:
            return Self.cut(piece, matches: Self.scalarMatches(piece.text) { $0.properties.isWhitespace }, behavior: .removed, invert: false)
        case let .metaspace(replacement, scheme, split):
            var scalars = String.UnicodeScalarView()
            for scalar in piece.text.unicodeScalars { scalars.append(scalar == " " ? replacement : scalar) }
            let starts = scalars.first == replacement
            if !starts, scheme == .always || (scheme == .first && piece.atTextStart) { scalars.insert(replacement, at: scalars.startIndex) }
            let text = Piece(text: String(scalars), atTextStart: piece.atTextStart)
            guard split else { return text.text.isEmpty ? [] : [text] }
            return Self.cut(text, matches: Self.scalarMatches(text.text) { $0 == replacement }, behavior: .mergedWithNext, invert: false)
        case let .digits(individual):
            let matches = Self.scalarMatches(piece.text, where: Self.isNumeric)
            return Self.cut(piece, matches: matches, behavior: individual ? .isolated : .contiguous, invert: false)
        case let .punctuation(behavior):
            return Self.cut(piece, matches: Self.scalarMatches(piece.text, where: Self.isPunctuation), behavior: behavior, invert: false)
        }
    }

    /// The pieces `behavior` keeps around `matches` (UTF-16 ranges of `piece.text`).
    private static func cut(_ piece: Piece, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool) -> [Piece] {
        let text = UTF16Text(piece.text)
        return behavior.pieces(length: text.count, matches: matches, invert: invert).map {
            Piece(text: text[$0], atTextStart: piece.atTextStart && $0.lowerBound == 0)
        }
    }

    /// One match per scalar satisfying `predicate` (how `tokenizers` splits on a `char` test).
    private static func scalarMatches(_ text: String, where predicate: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
        var matches: [Range<Int>] = []
        var offset = 0
        for scalar in text.unicodeScalars {
            let width = scalar.utf16.count
            if predicate(scalar) { matches.append(offset..<(offset + width)) }
            offset += width
        }
        return matches
    }

    /// `Whitespace`: the matches of `\w+|[^\w\s]+` (Rust `regex` classes), everything else dropped.
    private static func wordRuns(_ piece: Piece) -> [Piece] {
        enum Kind { case word, space, other }
        func kind(_ scalar: Unicode.Scalar) -> Kind {
            if isWordCharacter(scalar) { return .word }
            return scalar.properties.isWhitespace ? .space : .other
        }
        var matches: [Range<Int>] = []
        var runStart = 0, offset = 0
        var runKind = Kind.space
        for scalar in piece.text.unicodeScalars {
            let current = kind(scalar)
            if current != runKind {
                if runKind != .space, runStart < offset { matches.append(runStart..<offset) }
                runStart = offset
                runKind = current
            }
            offset += scalar.utf16.count
        }
        if runKind != .space, runStart < offset { matches.append(runStart..<offset) }
        return cut(piece, matches: matches, behavior: .removed, invert: true)
    }

    /// Rust `regex`'s Unicode `\w`: Alphabetic, marks, decimal digits, connector punctuation,
    /// join controls, as of the Unicode 16.0 tables `tokenizers` 0.22–0.23 ship (characters
    /// assigned later count as unassigned, as they do there).
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        guard assigned(scalar, byMajor: 16, minor: 0) else { return false }
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Rust `char::is_numeric` (Nd, Nl, No); Rust's standard library follows recent Unicode
    /// versions as Swift's does (measured: Unicode 17.0 digits split as in `tokenizers` 0.23).
    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `tokenizers`' `is_punc`: ASCII punctuation, or a Unicode punctuation category in the
    /// Unicode 8.0 tables of the `unicode_categories` crate it uses (measured: every P*
    /// character assigned in 9.0 or later is not punctuation there).
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII, let byte = UInt8(exactly: scalar.value), (0x21...0x2F).contains(byte) || (0x3A...0x40).contains(byte)
            || (0x5B...0x60).contains(byte) || (0x7B...0x7E).contains(byte) { return true }
        guard assigned(scalar, byMajor: 8, minor: 0) else { return false }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// Whether `scalar` was assigned in Unicode `major.minor` or earlier. Swift's tables are
    /// newer than the Rust crates' ones; a character they do not know yet is unassigned there.
    private static func assigned(_ scalar: Unicode.Scalar, byMajor major: Int, minor: Int) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < major || (age.major == major && age.minor <= minor)
    }
}
