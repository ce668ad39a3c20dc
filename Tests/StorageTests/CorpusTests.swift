import Foundation
import Storage
import Testing
import TestSupport

/// Finding 11: one line that is not UTF-8 fails that line only, recorded with its reason.
@Suite struct CorpusEncodingTests {
    @Test(arguments: ["corpus.jsonl", "corpus.txt"])
    func nonUTF8LineIsOneInvalidEntry(name: String) throws {
        let folder = try ScratchFolder("corpus-utf8")
        defer { folder.remove() }
        let jsonl = name.hasSuffix(".jsonl")
        func line(_ id: String, _ prompt: String) -> String { jsonl ? "{\"id\": \"\(id)\", \"prompt\": \"\(prompt)\"}" : prompt }
        var bytes = Data([0xEF, 0xBB, 0xBF]) + Data((line("a", "one") + "\r\n").utf8)
        bytes += Data(line("b", "tw").utf8) + Data([0xFF, 0xFE]) + Data((line("c", "") + "\n").utf8)
        bytes += Data((line("d", "caf\u{E9}") + "\n").utf8)
        let url = folder.file(name)
        try bytes.write(to: url)
        let corpus = try Corpus.load(url)
        #expect(corpus.prompts.map(\.text) == ["one", "caf\u{E9}"])
        #expect(corpus.prompts.map(\.id) == (jsonl ? ["a", "d"] : ["line-1", "line-3"]))
        let offset = line("b", "tw").utf8.count
        #expect(corpus.invalid.map(\.id) == ["line-2"] && corpus.invalid.map(\.line) == [2])
        #expect(corpus.invalid.map(\.reason) == ["not UTF-8 text (invalid byte at offset \(offset) of the line)"])
    }
}
