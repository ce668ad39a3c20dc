import Foundation

/// The `post_processor` of `tokenizer.json`, applied to a single sequence when
/// `encode(_:addSpecialTokens: true)`: adds the model's special tokens around the ids.
indirect enum PostProcessor: Sendable {
    case sequence([PostProcessor])
    /// The `single` template: special tokens' ids and the sequence (`A`) in template order.
    case template([TemplateItem])
    /// `[cls] + ids + [sep]` (`RobertaProcessing`, `BertProcessing`).
    case wrap(cls: Int, sep: Int)
    /// Changes offsets only (`ByteLevel` with `trim_offsets`): ids pass through.
    case passThrough

    enum TemplateItem: Sendable {
        case sequence
        case special([Int])
    }

    /// The types read by `init(node:)`.
    static let supportedTypes = "Sequence, TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing"

    /// Reads a `post_processor` object.
    ///
    /// - Throws: `TokenizerError.unsupportedComponent` naming the type and file for any other
    ///   type; `invalidField` for a template naming a special token it does not define.
    init(node: ConfigNode) throws {
        let type = try node.type()
        switch type {
        case "Sequence":
            self = .sequence(try node.nodes("processors").map(PostProcessor.init(node:)))
        case "ByteLevel":
            self = .passThrough
        case "RobertaProcessing", "BertProcessing":
            self = .wrap(cls: try Self.pairId(node, "cls"), sep: try Self.pairId(node, "sep"))
        case "TemplateProcessing":
            self = .template(try Self.readSingleTemplate(node))
        default:
            throw TokenizerError.unsupportedComponent(kind: "post_processor (supported: \(Self.supportedTypes))", type: type, file: node.file)
        }
    }

    /// The id of a `["<s>", 0]` pair.
    private static func pairId(_ node: ConfigNode, _ key: String) throws -> Int {
        let pair = try node.array(key)
        guard pair.count == 2, case let .int(id) = pair[1] else { throw node.invalid(key, "a [token, id] pair") }
        return id
    }

    private static func readSingleTemplate(_ node: ConfigNode) throws -> [TemplateItem] {
        var specials: [String: [Int]] = [:]
        if let table = try node.optionalNode("special_tokens") {
            for (name, _) in table.object.members {
                let entry = try table.node(name)
                specials[name] = try entry.array("ids").map { value in
                    guard case let .int(id) = value else { throw entry.invalid("ids", "an array of integer ids") }
                    return id
                }
            }
        }
        return try node.nodes("single").map { item in
            if item.value("Sequence") != nil { return .sequence }
            let special = try item.node("SpecialToken")
            let name = try special.string("id")
            guard let ids = specials[name] else {
                throw special.invalid("id", "a token defined in \(node.fieldPath("special_tokens")), not '\(name)'")
            }
            return .special(ids)
        }
    }

    /// `ids` with the special tokens added.
    func process(_ ids: [Int]) -> [Int] {
        switch self {
        case let .sequence(steps):
            return steps.reduce(ids) { $1.process($0) }
        case let .template(items):
            return items.flatMap { item -> [Int] in
                switch item {
                case .sequence: return ids
                case let .special(specialIds): return specialIds
                }
            }
        case let .wrap(cls, sep):
            return [cls] + ids + [sep]
        case .passThrough:
            return ids
        }
    }
}
