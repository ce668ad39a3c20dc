import Foundation

// The two JSON dialects `create_graph_files` writes, reproduced byte for byte:
//
// * `<slug>.json` comes from pydantic's `model_dump_json(indent=2)` (pydantic-core's serde-style
//   writer): floats in ryu's "pretty" layout (`0.00001`, `1e-6`, `1.5e+16`), non-ASCII text
//   written raw, non-finite floats as `null`;
// * `graph-metadata.json` comes from `json.dump(metadata, f, indent=2)`: floats as Python's
//   `repr` (`1e-05`, `1.5e+16`), `ensure_ascii` (everything outside `' '...'~'` escaped as
//   `\uXXXX`), non-finite floats as `NaN` / `Infinity`.
//
// Both indent by two spaces, write `"key": value`, `[]` / `{}` for empty containers and no
// trailing newline. The float rules were checked against pydantic 2.13.4 (pydantic-core 2.46.4)
// and CPython 3.11.

/// An ordered JSON value: objects keep their key order, numbers keep int versus float, so a
/// document read with `parse` and written again reads as Python's `json.load` + `json.dump` would.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// `value` as a JSON float, or `null` when absent.
    static func double(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }

    /// Which writer's conventions to follow.
    enum Dialect {
        /// pydantic `model_dump_json(indent=2)`.
        case pydantic
        /// Python `json.dump(obj, f, indent=2)` with the default `ensure_ascii=True`.
        case python
    }

    /// The document text, indented by two spaces, with no trailing newline.
    func rendered(_ dialect: Dialect) -> String {
        var out = ""
        write(to: &out, dialect: dialect, indent: 0)
        return out
    }

    private func write(to out: inout String, dialect: Dialect, indent: Int) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += JSONValue.formatDouble(d, dialect)
        case let .string(s): JSONValue.writeString(s, to: &out, asciiOnly: dialect == .python)
        case let .array(items):
            if items.isEmpty { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                item.write(to: &out, dialect: dialect, indent: indent + 2)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "]"
        case let .object(members):
            if members.isEmpty { out += "{}"; return }
            out += "{\n"
            for (i, (key, value)) in members.enumerated() {
                out += String(repeating: " ", count: indent + 2)
                JSONValue.writeString(key, to: &out, asciiOnly: dialect == .python)
                out += ": "
                value.write(to: &out, dialect: dialect, indent: indent + 2)
                out += i + 1 < members.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent) + "}"
        }
    }

    // MARK: Strings

    private static func writeString(_ s: String, to out: inout String, asciiOnly: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || (asciiOnly && v > 0x7E) {
                    if v > 0xFFFF {  // UTF-16 surrogate pair, as Python writes it
                        let u = v - 0x10000
                        out += hex4(0xD800 + (u >> 10)) + hex4(0xDC00 + (u & 0x3FF))
                    } else {
                        out += hex4(v)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Floats

    /// `d` as the given writer prints it. Both print the shortest decimal that round-trips to
    /// `d`; they differ only in when they switch to exponent notation and how they write it.
    static func formatDouble(_ d: Double, _ dialect: Dialect) -> String {
        guard d.isFinite else {
            if dialect == .pydantic { return "null" }
            return d.isNaN ? "NaN" : (d < 0 ? "-Infinity" : "Infinity")
        }
        let (negative, digits, point) = shortestDecimal(d)
        // `d = ±0.<digits> × 10^point`
        let fixed: Bool
        switch dialect {
        case .pydantic: fixed = point > -5 && point <= 16
        case .python: fixed = point > -4 && point <= 16
        }
        var out = negative ? "-" : ""
        if fixed {
            if point <= 0 {
                out += "0." + String(repeating: "0", count: -point) + digits
            } else if point >= digits.count {
                out += digits + String(repeating: "0", count: point - digits.count) + ".0"
            } else {
                out += digits.prefix(point) + "." + digits.dropFirst(point)
            }
        } else {
            out += digits.prefix(1)
            if digits.count > 1 { out += "." + digits.dropFirst() }
            let e = point - 1
            let magnitude = String(abs(e))
            out += "e" + (e < 0 ? "-" : "+")
            if dialect == .python && magnitude.count < 2 { out += "0" }
            out += magnitude
        }
        return out
    }

    /// The shortest round-tripping decimal of a finite `d`: sign, significant digits (no leading
    /// or trailing zeros; `"0"` for zero) and the decimal point position `point`, such that
    /// `|d| = 0.<digits> × 10^point`. Taken from Swift's `description`, which prints the shortest
    /// round-tripping digits (like ryu and CPython's `repr`).
    static func shortestDecimal(_ d: Double) -> (negative: Bool, digits: String, point: Int) {
        var text = Substring(d.description)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = parts[0]
        let fractionPart = parts.count > 1 ? parts[1] : ""
        var digits = Substring(integerPart + fractionPart)
        var point = integerPart.count + exponent
        while digits.first == "0" {
            digits = digits.dropFirst()
            point -= 1
        }
        while digits.last == "0" { digits = digits.dropLast() }
        if digits.isEmpty { return (negative, "0", 1) }
        return (negative, String(digits), point)
    }

    // MARK: Parsing

    /// Parses a JSON document, keeping key order and the int / float distinction
    /// (a number with `.`, `e` or `E` is a float, as in Python's `json`).
    static func parse(_ data: Data) throws -> JSONValue {
        var parser = Parser(bytes: Array(data))
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.failure("trailing characters") }
        return value
    }

    /// The member named `key` of an object.
    subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    struct ParseError: Error, CustomStringConvertible {
        var offset: Int
        var why: String
        var description: String { "\(why) at byte \(offset)" }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        func failure(_ why: String) -> ParseError { ParseError(offset: index, why: why) }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            let l = Array(literal.utf8)
            guard index + l.count <= bytes.count, Array(bytes[index..<(index + l.count)]) == l else {
                throw failure("expected '\(literal)'")
            }
            index += l.count
        }

        mutating func value() throws -> JSONValue {
            guard index < bytes.count else { throw failure("unexpected end of document") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, JSONValue)] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipWhitespace()
                    let key = try string()
                    skipWhitespace()
                    try expect(":")
                    skipWhitespace()
                    members.append((key, try value()))
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSONValue] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    skipWhitespace()
                    items.append(try value())
                    skipWhitespace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect("]")
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "N"): try expect("NaN"); return .double(.nan)
            case UInt8(ascii: "I"): try expect("Infinity"); return .double(.infinity)
            default: return try number()
            }
        }

        mutating func number() throws -> JSONValue {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "I") { try expect("Infinity"); return .double(-.infinity) }
            }
            var isFloat = false
            while index < bytes.count {
                let c = bytes[index]
                if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    index += 1
                } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    isFloat = true
                    index += 1
                } else {
                    break
                }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if !isFloat, let i = Int(text) { return .int(i) }
            guard !text.isEmpty, let d = Double(text) else { throw ParseError(offset: start, why: "invalid value") }
            return .double(d)
        }

        mutating func string() throws -> String {
            try expect("\"")
            var scalars = String.UnicodeScalarView()
            var run = index  // start of the current run of unescaped bytes
            func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\"") {
                    flush(index)
                    index += 1
                    return String(scalars)
                }
                guard c == UInt8(ascii: "\\") else { index += 1; continue }
                flush(index)
                index += 1
                guard index < bytes.count else { break }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800..<0xDC00).contains(v), index + 1 < bytes.count,
                       bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                        }
                    }
                    scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
                default: scalars.append(Unicode.Scalar(e))  // \" \\ \/
                }
                run = index
            }
            throw failure("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count,
                  let v = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                throw failure("bad \\u escape")
            }
            index += 4
            return v
        }
    }
}
