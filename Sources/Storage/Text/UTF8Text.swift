import Foundation

/// Decoding of text files (prompt files, corpora, YAML configs) that says where the bytes stop
/// being UTF-8, instead of a generic "cannot read".
public enum UTF8Text {
    /// The byte offset of the first byte that is not part of a valid UTF-8 sequence, or nil when
    /// all of `bytes` is valid UTF-8.
    ///
    /// - Complexity: O(n), one pass.
    public static func firstInvalidOffset(in bytes: some Collection<UInt8>) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// `data` as a `String`, or the offset of its first invalid byte.
    public static func decode(_ data: Data) -> Result<String, InvalidUTF8> {
        if let offset = firstInvalidOffset(in: data) { return .failure(InvalidUTF8(offset: offset)) }
        return .success(String(decoding: data, as: UTF8.self))
    }
}

/// Bytes that are not UTF-8, from byte `offset` on.
public struct InvalidUTF8: Error, CustomStringConvertible, Equatable, Sendable {
    public var offset: Int
    public init(offset: Int) { self.offset = offset }
    public var description: String { "not UTF-8 text (invalid byte at offset \(offset))" }
}
