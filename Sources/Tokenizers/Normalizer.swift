import Foundation

/// The `normalizer` of `tokenizer.json`: rewrites each stretch of text between added tokens
/// before pre-tokenization (SentencePiece-style tokenizers prepend "▁" and turn spaces into "▁"
/// here).
indirect enum Normalizer: Sendable {
    case sequence([Normalizer])
    /// Prepends the string to every non-empty input.
    case prepend(String)
    /// Replaces every match of the pattern.
    case replace(TextPattern, content: String)
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Removes leading and/or trailing white space.
    case strip(left: Bool, right: Bool)

    /// The types read by `init(node:)`.
    static let supportedTypes = "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip"

    /// Reads a `normalizer` object.
    ///
    /// - Throws: `TokenizerError.unsupportedComponent` naming the type and file for any other type.
    init(node: ConfigNode) throws {
        let type = try node.type()
        switch type {
        case "Sequence":
            self = .sequence(try node.nodes("normalizers").map(Normalizer.init(node:)))
        case "Prepend":
            self = .prepend(try node.string("prepend"))
        case "Replace":
            self = .replace(try TextPattern(node: node, key: "pattern"), content: try node.string("content"))
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Strip":
            self = .strip(left: try node.bool("strip_left", default: true), right: try node.bool("strip_right", default: true))
        default:
            throw TokenizerError.unsupportedComponent(kind: "normalizer (supported: \(Self.supportedTypes))", type: type, file: node.file)
        }
    }

    /// The normalized form of `text`.
    func normalize(_ text: String) -> String {
        switch self {
        case let .sequence(steps):
            return steps.reduce(text) { $1.normalize($0) }
        case let .prepend(prefix):
            return text.isEmpty ? text : prefix + text
        case let .replace(pattern, content):
            return pattern.replacingMatches(in: text, with: content)
        case .nfc: return UnicodeNormalization.normalize(text, .nfc)
        case .nfd: return UnicodeNormalization.normalize(text, .nfd)
        case .nfkc: return UnicodeNormalization.normalize(text, .nfkc)
        case .nfkd: return UnicodeNormalization.normalize(text, .nfkd)
        case .lowercase:
            var result = String.UnicodeScalarView()
            for scalar in text.unicodeScalars { result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars) }
            return String(result)
        case let .strip(left, right):
            let scalars = Array(text.unicodeScalars)
            var start = 0, end = scalars.count
            if left { while start < end, scalars[start].properties.isWhitespace { start += 1 } }
            if right { while end > start, scalars[end - 1].properties.isWhitespace { end -= 1 } }
            return String(String.UnicodeScalarView(scalars[start..<end]))
        }
    }
}
