// Feeds a `tokenizer.json` to `Tokenizer(tokenizerJSON:)`; a tokenizer it accepts then encodes
// and decodes a few fixed strings (ASCII, accents, CJK, emoji, added-token look-alikes, bytes
// that need byte fallback).
import Foundation
import FuzzSupport
import Tokenizers

enum Scratch { static let file = ScratchFile("tokenizer.json") }

let samples = [
    "", " ", "Hello, world!", "The capital of France is", "  two  spaces\tand\ttabs\n\nnewlines",
    "café naïve Å ﬁ", "日本語のテキスト", "emoji 🙂👍🏽", "<s> </s> <unk> <|endoftext|>", "\u{0}\u{1F}\u{7F}",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let tokenizer = try? Tokenizer(tokenizerJSON: Scratch.file.write(start, count)) else { return 0 }
    for text in samples {
        guard let ids = try? tokenizer.encode(text, addSpecialTokens: true) else { continue }
        _ = tokenizer.decode(ids)
        _ = tokenizer.decode(ids, skipSpecialTokens: true)
        _ = try? tokenizer.attributedIds(for: text)
    }
    _ = tokenizer.decode([-1, 0, 1, tokenizer.vocabularySize, Int.max])
    return 0
}
