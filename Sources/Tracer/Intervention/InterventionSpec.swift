import Foundation

/// An intervention as a user writes it, before it is resolved against a prompt:
/// `LAYER:POS:FEATURE=VALUE` on the command line, `[layer, position, feature, value]` in a JSON
/// file. `POS` counts the BOS at 0, negative from the end (−1 the last position), or is `all`
/// (every position where the feature is active in the clean run); `VALUE` is a number or `*k`
/// (k times the clean activation at that layer, position and feature).
public struct InterventionSpec: Equatable, Sendable, CustomStringConvertible {
    public enum Position: Equatable, Sendable {
        case index(Int)
        case all
    }
    public enum Value: Equatable, Sendable {
        case absolute(Float)
        case scale(Float)
    }

    public var layer: Int
    public var position: Position
    public var feature: Int
    public var value: Value

    public init(layer: Int, position: Position, feature: Int, value: Value) {
        self.layer = layer
        self.position = position
        self.feature = feature
        self.value = value
    }

    public var description: String {
        let pos: String
        switch position {
        case let .index(p): pos = "\(p)"
        case .all: pos = "all"
        }
        switch value {
        case let .absolute(v): return "\(layer):\(pos):\(feature)=\(v)"
        case let .scale(k): return "\(layer):\(pos):\(feature)=*\(k)"
        }
    }

    /// Parses `LAYER:POS:FEATURE=VALUE`; the error says what is wrong with it.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let fields = parts[0].split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, fields.count == 3 else {
            throw TracerError.invalidArgument("'\(text)' is not LAYER:POS:FEATURE=VALUE")
        }
        guard let layer = Int(fields[0]) else { throw TracerError.invalidArgument("'\(text)': layer '\(fields[0])' is not an integer") }
        guard let feature = Int(fields[2]) else { throw TracerError.invalidArgument("'\(text)': feature '\(fields[2])' is not an integer") }
        try self.init(layer: layer, position: Self.position(String(fields[1]), in: text), feature: feature,
                      value: Self.value(String(parts[1]), in: text))
    }

    /// One `[layer, position, feature, value]` entry of a JSON interventions file: numbers, or
    /// the strings `"all"` (position) and `"*k"` (value) as on the command line.
    public init(json entry: Any) throws {
        guard let list = entry as? [Any], list.count == 4 else {
            throw TracerError.invalidArgument("\(Self.jsonText(entry)) is not [layer, position, feature, value]")
        }
        func integer(_ x: Any, _ name: String) throws -> Int {
            if !(x is String), let n = x as? NSNumber, let i = Int(exactly: n.doubleValue) { return i }
            throw TracerError.invalidArgument("\(Self.jsonText(entry)): \(name) \(Self.jsonText(x)) is not an integer")
        }
        let position: Position, value: Value
        if let s = list[1] as? String { position = try Self.position(s, in: Self.jsonText(entry)) } else { position = .index(try integer(list[1], "position")) }
        if let s = list[3] as? String {
            value = try Self.value(s, in: Self.jsonText(entry))
        } else if let n = list[3] as? NSNumber {
            value = .absolute(n.floatValue)
        } else {
            throw TracerError.invalidArgument("\(Self.jsonText(entry)): value \(Self.jsonText(list[3])) is not a number")
        }
        self.init(layer: try integer(list[0], "layer"), position: position, feature: try integer(list[2], "feature"), value: value)
    }

    /// Parses a JSON interventions file's contents: an array of entries.
    public static func list(json data: Data) throws -> [InterventionSpec] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw TracerError.invalidArgument("not JSON: \(error.localizedDescription)")
        }
        guard let entries = object as? [Any] else { throw TracerError.invalidArgument("not a JSON array of [layer, position, feature, value]") }
        return try entries.enumerated().map { i, e in
            do { return try InterventionSpec(json: e) } catch let error as TracerError {
                throw TracerError.invalidArgument("entry \(i): \(error)")
            }
        }
    }

    private static func position(_ s: String, in text: String) throws -> Position {
        if s == "all" { return .all }
        guard let p = Int(s) else { throw TracerError.invalidArgument("'\(text)': position '\(s)' is not an integer or 'all'") }
        return .index(p)
    }

    private static func value(_ s: String, in text: String) throws -> Value {
        let scaled = s.hasPrefix("*")
        guard let v = Float(scaled ? String(s.dropFirst()) : s), v.isFinite else {
            throw TracerError.invalidArgument("'\(text)': value '\(s)' is not a finite number or *k")
        }
        return scaled ? .scale(v) : .absolute(v)
    }

    private static func jsonText(_ x: Any) -> String {
        if let s = x as? String { return "\"\(s)\"" }
        guard JSONSerialization.isValidJSONObject([x]), let d = try? JSONSerialization.data(withJSONObject: [x], options: [.fragmentsAllowed]) else { return "\(x)" }
        return String(String(decoding: d, as: UTF8.self).dropFirst().dropLast())
    }

    /// The interventions this spec stands for on `clean`: a negative position counts from the end
    /// of the first `promptLength` positions (the prompt, when `clean` holds generated tokens
    /// too); `all` takes every position of `clean` where the feature's clean activation is
    /// non-zero; `*k` scales the clean activation.
    ///
    /// - Throws: `TracerError.invalidArgument` for a layer, feature or position outside the model
    ///   or the prompt, a non-finite scaled value, or `all` of a feature active nowhere.
    public func resolve(against clean: CleanRun, promptLength: Int? = nil, nLayers: Int, dTranscoder: Int) throws -> [FeatureIntervention] {
        let prompt = promptLength ?? clean.nPos
        guard (0..<nLayers).contains(layer) else {
            throw TracerError.invalidArgument("layer \(layer) is outside the model's layers 0...\(nLayers - 1)")
        }
        guard (0..<dTranscoder).contains(feature) else {
            throw TracerError.invalidArgument("feature \(feature) is outside the transcoder's features 0...\(dTranscoder - 1)")
        }
        let positions: [Int]
        switch position {
        case let .index(p):
            let resolved = p < 0 ? prompt + p : p
            guard (0..<prompt).contains(resolved) else {
                throw TracerError.invalidArgument("position \(p) is outside the prompt (\(prompt) positions: 0...\(prompt - 1) with BOS at 0, or -\(prompt)...-1 from the end)")
            }
            positions = [resolved]
        case .all:
            positions = (0..<clean.nPos).filter { clean.activations[layer][$0 * dTranscoder + feature] != 0 }
            guard !positions.isEmpty else {
                throw TracerError.invalidArgument("feature \(feature) of layer \(layer) is active at no position of the prompt, so 'all' means nothing")
            }
        }
        return try positions.map { p in
            let v: Float
            switch value {
            case let .absolute(x): v = x
            case let .scale(k): v = k * clean.activations[layer][p * dTranscoder + feature]
            }
            guard v.isFinite else { throw TracerError.invalidArgument("the scaled value at position \(p) is not finite") }
            return FeatureIntervention(layer: layer, position: p, feature: feature, value: v)
        }
    }
}
