import Foundation

/// The `decoder` of `tokenizer.json`: turns the token strings of a sequence of ids back into
/// text. Each step maps a list of strings to a list of strings (`tokenizers`'
/// `decode_chain`); the final list is concatenated.
indirect enum TokenDecoder: Sendable {
    case sequence([TokenDecoder])
    /// Byte-level alphabet back to bytes, then UTF-8 (invalid bytes become U+FFFD).
    case byteLevel
    /// `replacement` back to spaces; the first token loses all of its replacements unless the
    /// scheme is `never` (as `tokenizers` does).
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme)
    /// Runs of `<0xXX>` tokens back to the UTF-8 text they spell (U+FFFD per byte if invalid).
    case byteFallback
    /// All tokens joined into one.
    case fuse
    /// Up to `start` leading and `stop` trailing `content` characters removed from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Every match of the pattern replaced in each token.
    case replace(TextPattern, content: String)

    /// The types read by `init(node:)`.
    static let supportedTypes = "Sequence, ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace"

    /// Reads a `decoder` object.
    ///
    /// - Throws: `TokenizerError.unsupportedComponent` naming the type and file for any other type.
    init(node: ConfigNode) throws {
        let type = try node.type()
        switch type {
        case "Sequence":
            self = .sequence(try node.nodes("decoders").map(TokenDecoder.init(node:)))
        case "ByteLevel":
            self = .byteLevel
        case "Metaspace":
            let scheme: PrependScheme
            if let name = try node.optionalString("prepend_scheme") {
                guard let parsed = PrependScheme(rawValue: name) else { throw node.invalid("prepend_scheme", "always, first or never, not '\(name)'") }
                scheme = parsed
            } else {
                scheme = try node.bool("add_prefix_space", default: true) ? .always : .never
            }
            self = .metaspace(replacement: try node.character("replacement", default: "\u{2581}"), prependScheme: scheme)
        case "ByteFallback":
            self = .byteFallback
        case "Fuse":
            self = .fuse
        case "Strip":
            self = .strip(content: try node.character("content", default: " "),
                          start: try node.int("start", default: 0), stop: try node.int("stop", default: 0))
        case "Replace":
            self = .replace(try TextPattern(node: node, key: "pattern"), content: try node.string("content"))
        default:
            throw TokenizerError.unsupportedComponent(kind: "decoder (supported: \(Self.supportedTypes))", type: type, file: node.file)
        }
    }

    /// The text of `tokens`.
    func decode(_ tokens: [String]) -> String { decodeChain(tokens).joined() }

    /// One step (or, for `.sequence`, every step in turn) over the token strings.
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case let .sequence(steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens { bytes.append(contentsOf: ByteLevel.bytes(of: token)) }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .metaspace(replacement, scheme):
            return tokens.enumerated().map { index, token in
                var scalars = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar != replacement {
                        scalars.append(scalar)
                    } else if index != 0 || scheme == .never {
                        scalars.append(" ")
                    }
                }
                return String(scalars)
            }
        case .byteFallback:
            return Self.fuseByteTokens(tokens)
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                let scalars = Array(token.unicodeScalars)
                var lower = 0, upper = scalars.count
                while lower < min(start, scalars.count), scalars[lower] == content { lower += 1 }
                var stripped = 0
                while stripped < stop, upper > lower, scalars[upper - 1] == content { upper -= 1; stripped += 1 }
                return String(String.UnicodeScalarView(scalars[lower..<upper]))
            }
        case let .replace(pattern, content):
            return tokens.map { pattern.replacingMatches(in: $0, with: content) }
        }
    }

    /// `ByteFallback`: consecutive `<0xXX>` tokens become the string their bytes spell, or one
    /// U+FFFD per byte when those bytes are not valid UTF-8.
    private static func fuseByteTokens(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let text = String(validating: pending, as: UTF8.self) {
                result.append(text)
            } else {
                result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if let byte = byteValue(token) {
                pending.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    /// The byte of a `<0xXX>` token (6 bytes, two hex digits), else nil.
    private static func byteValue(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}
