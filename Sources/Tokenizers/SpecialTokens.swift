import Foundation

/// The special tokens `transformers` knows by role, read from `tokenizer_config.json` and then
/// `special_tokens_map.json` (which wins, as in `from_pretrained`). Values may be strings or
/// `{"content": …}` objects.
struct SpecialTokenRoles: Sendable {
    /// `transformers`' `SPECIAL_TOKENS_ATTRIBUTES` order, which `all_special_ids` follows.
    static let roles = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]

    /// Role → token content, for the roles that are set.
    var named: [String: String] = [:]
    /// `additional_special_tokens`, in file order.
    var additional: [String] = []
    /// `extra_special_tokens` (named model-specific tokens), in file order.
    var extra: [String] = []

    /// Reads whichever of the two files exist in `directory`; nil when neither does.
    static func load(directory: URL) throws -> SpecialTokenRoles? {
        var roles = SpecialTokenRoles()
        var found = false
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            found = true
            try roles.merge(contentsOf: url)
        }
        return found ? roles : nil
    }

    private mutating func merge(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.fileNotFound(url.path, what: url.lastPathComponent) }
        guard case let .object(object) = try JSONParser.parse(data, source: url.path) else {
            throw TokenizerError.malformedFile(url.path, "expected a JSON object")
        }
        let node = ConfigNode(object, file: url.path)
        for role in Self.roles {
            guard let value = node.value(role) else { continue }
            named[role] = try Self.content(value, field: role, node: node)
        }
        if node.value("additional_special_tokens") != nil {
            additional = try node.array("additional_special_tokens").enumerated().map { index, value in
                try Self.content(value, field: "additional_special_tokens[\(index)]", node: node)
            }
        }
        if let extras = try? node.optionalNode("extra_special_tokens") {
            extra = try extras.object.members.map { try Self.content($0.value, field: "extra_special_tokens.\($0.key)", node: node) }
        } else if node.value("extra_special_tokens") != nil {
            extra = try node.array("extra_special_tokens").enumerated().map { index, value in
                try Self.content(value, field: "extra_special_tokens[\(index)]", node: node)
            }
        }
    }

    /// A token given as `"<s>"` or `{"content": "<s>", …}`.
    private static func content(_ value: TokenizerJSONValue, field: String, node: ConfigNode) throws -> String {
        switch value {
        case let .string(text): return text
        case let .object(object):
            guard case let .string(text)? = object["content"] else { throw node.invalid(field, "a string or an object with a 'content' string") }
            return text
        default: throw node.invalid(field, "a string or an object with a 'content' string, not \(value.kindName)")
        }
    }

    /// `transformers`' `all_special_tokens`: the role tokens in role order, then the
    /// additional and extra ones, without repeats.
    var allSpecialTokens: [String] {
        var seen = Set<ExactString>()
        var result: [String] = []
        for token in Self.roles.compactMap({ named[$0] }) + additional + extra where seen.insert(ExactString(token)).inserted {
            result.append(token)
        }
        return result
    }
}
