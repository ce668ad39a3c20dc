import Foundation

/// GPT-2's byte-level alphabet: every byte 0–255 is written as one printable character, so a
/// byte-level BPE works on characters while covering any UTF-8 input.
///
/// Bytes `!`…`~`, `¡`…`¬`, `®`…`ÿ` stand for themselves; the 68 others map, in byte order,
/// to U+0100, U+0101, … (a space, 0x20, becomes "Ġ" U+0120; a newline "Ċ" U+010A).
enum ByteLevel {
    /// `byteToScalar[b]`: the character standing for byte `b`.
    static let byteToScalar: [Unicode.Scalar] = {
        var printable = Set<Int>()
        for range in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { printable.formUnion(range) }
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next = 0x100
        for byte in 0..<256 {
            if printable.contains(byte) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(UInt32(next))!
                next += 1
            }
        }
        return table
    }()

    /// The inverse of `byteToScalar`, keyed by scalar value.
    static let scalarToByte: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (byte, scalar) in byteToScalar.enumerated() { table[scalar.value] = UInt8(byte) }
        return table
    }()

    /// GPT-2's pre-tokenization regex (`tokenizers`' `ByteLevel` with `use_regex`): contractions,
    /// an optional space followed by letters, by digits, or by other symbols, then white space
    /// (a run of spaces leaves its last space to the following word).
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    /// `text`'s UTF-8 bytes written in the byte-level alphabet.
    static func encode(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in text.utf8 { scalars.append(byteToScalar[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes a token stands for: its characters mapped back through the alphabet when all of
    /// them belong to it, otherwise (an added token such as "<|endoftext|>") its own UTF-8 bytes.
    static func bytes(of token: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = scalarToByte[scalar.value] else { return Array(token.utf8) }
            bytes.append(byte)
        }
        return bytes
    }
}
