// Tests of Sources/Tracer/EAP/PromptPairFile.swift: pairs tokenized as `circuits trace` does,
// every kind of bad line skipped with its reason while the lines around it are read.
import Foundation
import Testing
import TestSupport
import Tokenizers
@testable import Tracer

@Suite struct PromptPairFileTests {
    static let demo = repositoryRoot.appendingPathComponent("models/demo/model")
    static let qwen2 = repositoryRoot.appendingPathComponent("Tests/Fixtures/tokenizers/qwen2_bpe")

    /// Writes `lines` as a pair file and reads it with the demo model's tokenizer (327 words, context 64).
    static func read(_ lines: [String], tokenizer: URL = demo, nVocab: Int = 327, nCtx: Int = 64) throws -> PromptPairFile {
        let folder = try ScratchFolder("pairs")
        defer { folder.remove() }
        let url = folder.file("pairs.jsonl")
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return try PromptPairFile.read(url, tokenizer: try Tokenizer(modelDirectory: tokenizer), nVocab: nVocab, nCtx: nCtx)
    }

    static func line(_ clean: String, _ corrupt: String, _ answer: String, _ wrong: String, id: String? = nil) -> String {
        var o = ["clean": clean, "corrupt": corrupt, "answer": answer, "wrong": wrong]
        if let id { o["id"] = id }
        return String(decoding: try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]), as: UTF8.self)
    }

    static let clean = "fact : the capital of the state containing dallas is"
    static let corrupt = "fact : the capital of the state containing oakland is"

    /// A good line: both prompts as `Tokenizer.attributedIds` gives them (BOS first), the answers
    /// as the vocabulary's ids of the words.
    @Test func aGoodPairIsTokenizedAsTraceDoes() throws {
        let t = try Tokenizer(modelDirectory: Self.demo)
        let f = try Self.read([Self.line(Self.clean, Self.corrupt, "austin", "sacramento", id: "p1")])
        let pair = try #require(f.pairs.first)
        #expect(pair.id == "p1")
        #expect(pair.clean == (try t.attributedIds(for: Self.clean)) && pair.clean.count == 11 && pair.clean[0] == t.bosTokenId)
        #expect(pair.corrupt == (try t.attributedIds(for: Self.corrupt)))
        #expect(pair.answer == t.id(of: "austin") && pair.wrong == t.id(of: "sacramento"))
        #expect(f.skipped.isEmpty)
    }

    /// A corpus task's lines (ids given by the coordinator) follow the same rules: the pair takes
    /// the coordinator's id, bad lines are skipped with the file reader's reasons, in order.
    @Test func corpusTaskLinesKeepTheCoordinatorsIds() throws {
        let t = try Tokenizer(modelDirectory: Self.demo)
        let lines: [(id: String, line: String)] = [
            ("t-good", Self.line(Self.clean, Self.corrupt, "austin", "sacramento", id: "ignored")),
            ("t-unknown", Self.line(Self.clean, "fact : the capital of the state containing gotham is", "austin", "sacramento")),
            ("t-length", Self.line(Self.clean, "fact : the capital of the state is", "austin", "sacramento")),
            ("t-json", "[1, 2]"),
        ]
        let read = PromptPairFile.read(lines: lines, tokenizer: t, nVocab: 327, nCtx: 64)
        #expect(read.pairs.map(\.id) == ["t-good"])
        #expect(read.pairs.first?.clean == (try t.attributedIds(for: Self.clean)))
        #expect(read.skipped.map(\.id) == ["t-unknown", "t-length", "t-json"])
        let file = try Self.read(lines.dropFirst().map(\.line))
        #expect(read.skipped.map(\.reason) == file.skipped.map { $0.reason ?? "" })
        #expect(read.skipped[0].reason.contains("gotham") && read.skipped[1].reason.contains("11 tokens"))
    }

    /// Each bad line is skipped with its reason; the good lines around them are read; blank lines
    /// are not entries; ids default to `line-N`.
    @Test(arguments: [
        ("{\"clean\": ", "not a JSON object"),
        ("[1, 2]", "not a JSON object"),
        (#"{"clean": "fact : the capital of texas is", "corrupt": "fact : the capital of ohio is", "answer": "austin"}"#, "missing field 'wrong'"),
        (#"{"clean": "fact : the capital of texas is", "corrupt": "fact : the capital of ohio is", "answer": 3, "wrong": "columbus"}"#, "field 'answer' must be a string"),
        (#"{"id": 7, "clean": "a", "corrupt": "b", "answer": "c", "wrong": "d"}"#, "field 'id' must be a non-empty string"),
        (line("fact : the capital of texas is", clean, "austin", "sacramento"),
         "clean has 8 tokens and corrupt 11 (BOS included); a pair needs the same number"),
        (line("fact : the capital of narnia is", "fact : the capital of texas is", "austin", "sacramento"),
         "clean holds a word outside the vocabulary ('narnia') that would be read as the unknown token '<|endoftext|>'"),
        (line(clean, "fact : the capital of the state containing gotham is", "austin", "sacramento"),
         "corrupt holds a word outside the vocabulary ('gotham') that would be read as the unknown token '<|endoftext|>'"),
        (line(clean, corrupt, "austin texas", "sacramento"), "answer 'austin texas' is 2 tokens ('austin' 'texas'), not one"),
        (line(clean, corrupt, "austin", "narnia"), "wrong holds a word outside the vocabulary ('narnia') that would be read as the unknown token '<|endoftext|>'"),
        (line(clean, corrupt, "austin", ""), "wrong '' is 0 tokens, not one"),
        (line(clean, corrupt, "austin", "austin"), "answer and wrong are the same token"),
        (line("", "", "austin", "sacramento"), "clean: prompt is empty"),
        (line(Array(repeating: "the", count: 64).joined(separator: " "), Array(repeating: "a", count: 64).joined(separator: " "), "austin", "texas"),
         "clean has 65 tokens (BOS included) but the model's context is 64"),
    ] as [(String, String)])
    func badLinesAreSkippedWithTheirReason(bad: String, reason: String) throws {
        let good = Self.line(Self.clean, Self.corrupt, "austin", "sacramento", id: "good")
        let f = try Self.read([good, "", bad, "  ", Self.line(Self.corrupt, Self.clean, "sacramento", "austin")])
        #expect(f.entries.map(\.line) == [1, 3, 5])
        #expect(f.pairs.map(\.id) == ["good", "line-5"], "\(bad)")
        let skipped = try #require(f.skipped.first)
        #expect(f.skipped.count == 1)
        #expect(skipped.line == 3 && (skipped.reason ?? "").hasPrefix(reason), "\(bad): \(skipped.reason ?? "nil")")
        #expect(f.message(for: skipped).hasPrefix("\(f.path):3 (id \(skipped.id)): skipped: \(reason)"))
    }

    @Test func aRepeatedIdIsSkipped() throws {
        let l = Self.line(Self.clean, Self.corrupt, "austin", "sacramento", id: "same")
        let f = try Self.read([l, l])
        #expect(f.pairs.count == 1 && f.skipped.first?.reason == "id 'same' is used by an earlier line" && f.skipped.first?.line == 2)
    }

    /// Byte-level BPE without a prefix space (Qwen2 / GPT-2 / Llama 3 style): " graph" (after a
    /// space) is the one token Ġgraph; "graph" is several, named, with the hint to add the space.
    @Test func byteLevelAnswersNeedTheirLeadingSpace() throws {
        let t = try Tokenizer(modelDirectory: Self.qwen2)
        let ok = try Self.read([Self.line("the quick brown", "the quick model", " graph", " model")], tokenizer: Self.qwen2, nVocab: t.vocabularySize, nCtx: 64)
        let pair = try #require(ok.pairs.first)
        #expect(pair.answer == t.id(of: "Ġgraph") && pair.wrong == t.id(of: "Ġmodel"))
        let graphIds = try t.encode("graph")
        try #require(graphIds.count > 1, "'graph' without its space is several tokens in this vocabulary")
        let bad = try Self.read([Self.line("the quick brown", "the quick model", "graph", " model")], tokenizer: Self.qwen2, nVocab: t.vocabularySize, nCtx: 64)
        let reason = try #require(bad.skipped.first?.reason)
        let pieces = graphIds.map { "'\(t.tokenString($0)!)'" }.joined(separator: " ")
        #expect(reason == "answer 'graph' is \(graphIds.count) tokens (\(pieces)), not one (this tokenizer marks a word after a space: write \" graph\")")
    }

    @Test func unreadableFilesAreErrors() throws {
        let t = try Tokenizer(modelDirectory: Self.demo)
        let missing = URL(fileURLWithPath: "/nonexistent/pairs.jsonl")
        #expect(throws: TracerError.fileNotFound(missing.path, what: "pair file")) {
            try PromptPairFile.read(missing, tokenizer: t, nVocab: 327, nCtx: 64)
        }
    }
}
