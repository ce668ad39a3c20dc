/// A strict reader and a writer for the plain JSON of the hot protocol messages (`ready`,
/// `result`, `task`, ...) and journal lines, which `JSONDecoder`/`JSONEncoder` handle at
/// several microseconds each (`MessageCodec` fast path).
///
/// The reader accepts a subset of JSON: objects, arrays, strings without escapes or control
/// characters (valid UTF-8), numbers in JSON's own grammar, `true`/`false`, nesting at most
/// `maximumDepth` deep, no duplicate keys. Anything else is nil, and the caller falls back to
/// `JSONDecoder`, so it never accepts what `JSONDecoder` would refuse and never decides a
/// different value.
enum PlainJSON {
    static let maximumDepth = 6

    indirect enum Value: Equatable {
        case object([String: Value])
        case array([Value])
        case string(String)
        /// A number's text, as written (checked against JSON's grammar).
        case number(String)
        case bool(Bool)

        /// An integer written as one (`-?(0|[1-9][0-9]*)`, in `Int`'s range); nil otherwise.
        var int: Int? {
            guard case let .number(text) = self, PlainJSON.isInteger(text.utf8) else { return nil }
            return Int(text)
        }

        var double: Double? {
            guard case let .number(text) = self, let x = Double(text), x.isFinite else { return nil }
            return x
        }

        var string: String? {
            guard case let .string(s) = self else { return nil }
            return s
        }
    }

    /// The value of the whole of `bytes`, or nil when it is not plain JSON (see above).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Value? {
        var r = Reader(bytes: bytes)
        guard let v = r.value(depth: 0) else { return nil }
        r.skipSpace()
        return r.i == bytes.count ? v : nil
    }

    static func isInteger(_ text: String.UTF8View) -> Bool {
        var digits = text[...]
        if digits.first == UInt8(ascii: "-") { digits = digits.dropFirst() }
        guard let first = digits.first, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return first != UInt8(ascii: "0") || digits.count == 1
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        mutating func value(depth: Int) -> Value? {
            skipSpace()
            guard i < bytes.count, depth <= PlainJSON.maximumDepth else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var fields: [String: Value] = [:]
                if take(UInt8(ascii: "}")) { return .object(fields) }
                repeat {
                    skipSpace()
                    guard let key = string(), take(UInt8(ascii: ":")), let v = value(depth: depth + 1),
                          fields.updateValue(v, forKey: key) == nil else { return nil }
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "}")) ? .object(fields) : nil
            case UInt8(ascii: "["):
                i += 1
                var items: [Value] = []
                if take(UInt8(ascii: "]")) { return .array(items) }
                repeat {
                    guard let v = value(depth: depth + 1) else { return nil }
                    items.append(v)
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]")) ? .array(items) : nil
            case UInt8(ascii: "\""):
                return string().map(Value.string)
            case UInt8(ascii: "t"), UInt8(ascii: "f"):
                for (word, v) in [("true", true), ("false", false)] where matches(word) {
                    i += word.utf8.count
                    return .bool(v)
                }
                return nil
            default:
                return number().map(Value.number)
            }
        }

        private func matches(_ word: String) -> Bool {
            let w = word.utf8
            guard bytes.count - i >= w.count else { return false }
            return zip(bytes[i..<(i + w.count)], w).allSatisfy { $0 == $1 }
        }

        /// A string without escapes or control characters, of valid UTF-8 (else nil).
        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            let start = i + 1
            var j = start
            while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                if bytes[j] == UInt8(ascii: "\\") || bytes[j] < 0x20 { return nil }
                j += 1
            }
            guard j < bytes.count else { return nil }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<j])
            let s = String(decoding: raw, as: UTF8.self)
            guard s.utf8.count == raw.count, s.utf8.elementsEqual(raw) else { return nil }   // invalid UTF-8 was repaired
            i = j + 1
            return s
        }

        /// A number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
        mutating func number() -> String? {
            let start = i
            func digits() -> Int {
                let from = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                return i - from
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            let intStart = i, n = digits()
            guard n > 0, bytes[intStart] != UInt8(ascii: "0") || n == 1 else { return nil }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { return nil }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { return nil }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        }
    }

    /// Builds JSON text by appending: keys and strings escaped as JSON requires, numbers in
    /// Swift's shortest round-trip form.
    struct Writer {
        var bytes: [UInt8] = []

        init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

        mutating func raw(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func int(_ n: Int) { bytes.append(contentsOf: String(n).utf8) }

        /// A finite double (the caller checks: JSON has no NaN or infinity).
        mutating func double(_ x: Double) { bytes.append(contentsOf: x.description.utf8) }

        mutating func string(_ s: String) {
            bytes.append(UInt8(ascii: "\""))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case ..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
                default: bytes.append(b)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }
}
