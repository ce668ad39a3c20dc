import Foundation

/// One JSON object of a tokenizer file, with the path that leads to it, so that every
/// field read can fail with an error naming the file and the field
/// (`pre_tokenizer.pretokenizers[1].pattern`).
struct ConfigNode: Sendable {
    let object: JSONObject
    /// JSON path of this object inside the file (`""` for the root).
    let path: String
    /// The file it was read from.
    let file: String

    init(_ object: JSONObject, path: String = "", file: String) {
        self.object = object
        self.path = path
        self.file = file
    }

    /// The path of member `key`, for error messages.
    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> TokenizerJSONValue? {
        guard let value = object[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func invalid(_ key: String, _ expected: String) -> TokenizerError {
        .invalidField(fieldPath(key), expected: expected, file: file)
    }

    /// The component's `type` member.
    func type() throws -> String { try string("type") }

    func string(_ key: String) throws -> String {
        guard let value = value(key) else { throw TokenizerError.missingField(fieldPath(key), file: file) }
        guard case let .string(text) = value else { throw invalid(key, "a string, not \(value.kindName)") }
        return text
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case let .string(text) = value else { throw invalid(key, "a string, not \(value.kindName)") }
        return text
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = value(key) else { return fallback }
        guard case let .bool(flag) = value else { throw invalid(key, "a boolean, not \(value.kindName)") }
        return flag
    }

    func int(_ key: String) throws -> Int {
        guard let value = value(key) else { throw TokenizerError.missingField(fieldPath(key), file: file) }
        guard case let .int(number) = value else { throw invalid(key, "an integer, not \(value.kindName)") }
        return number
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        value(key) == nil ? fallback : try int(key)
    }

    /// Member `key` as an object, or nil when absent or null.
    func optionalNode(_ key: String) throws -> ConfigNode? {
        guard let value = value(key) else { return nil }
        guard case let .object(child) = value else { throw invalid(key, "an object, not \(value.kindName)") }
        return ConfigNode(child, path: fieldPath(key), file: file)
    }

    func node(_ key: String) throws -> ConfigNode {
        guard let child = try optionalNode(key) else { throw TokenizerError.missingField(fieldPath(key), file: file) }
        return child
    }

    /// Member `key` as an array (empty when absent).
    func array(_ key: String) throws -> [TokenizerJSONValue] {
        guard let value = value(key) else { return [] }
        guard case let .array(elements) = value else { throw invalid(key, "an array, not \(value.kindName)") }
        return elements
    }

    /// Member `key` as an array of objects.
    func nodes(_ key: String) throws -> [ConfigNode] {
        try array(key).enumerated().map { index, element in
            guard case let .object(child) = element else {
                throw invalid("\(key)[\(index)]", "an object, not \(element.kindName)")
            }
            return ConfigNode(child, path: "\(fieldPath(key))[\(index)]", file: file)
        }
    }

    /// Member `key` as a single character (a `Metaspace` replacement, a `Strip` content).
    func character(_ key: String, default fallback: Unicode.Scalar) throws -> Unicode.Scalar {
        guard let text = try optionalString(key) else { return fallback }
        let scalars = Array(text.unicodeScalars)
        guard scalars.count == 1 else { throw invalid(key, "a single character, not '\(text)'") }
        return scalars[0]
    }
}
