// The EAP corpus job's pair reading: tokenized pairs, and every bad pair skipped with its reason.
import Foundation
import Testing
import TestSupport
import Tokenizers
@testable import Tracer

@Suite struct CorpusPairReadingTests {
    static let model = repositoryRoot.appendingPathComponent("models/demo/model")

    static func line(_ clean: String, _ corrupt: String, _ answer: String, _ wrong: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["clean": clean, "corrupt": corrupt, "answer": answer, "wrong": wrong], options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func readsPairsAndSkipsBadOnesWithTheirReason() throws {
        let tokenizer = try Tokenizer(modelDirectory: Self.model), config = try ModelConfig(directory: Self.model)
        let clean = "fact : the capital of the state containing dallas is", corrupt = "fact : the capital of the state containing miami is"
        let lines: [(id: String, line: String)] = [
            ("good", Self.line(clean, corrupt, "austin", "tallahassee")),
            ("unknown", Self.line(clean, "fact : the capital of the state containing gotham is", "austin", "tallahassee")),
            ("length", Self.line(clean, "fact : the capital of the state is", "austin", "tallahassee")),
            ("answer", Self.line(clean, corrupt, "austin texas", "tallahassee")),
            ("wrong", Self.line(clean, corrupt, "austin", "metropolis")),
            ("missing", #"{"clean": "fact : dallas is", "corrupt": "fact : miami is", "answer": "austin"}"#),
            ("json", "[1, 2]"),
        ]
        let (pairs, skipped) = CorpusPairReading.read(lines, tokenizer: tokenizer, config: config)
        #expect(pairs.count == 1)
        let p = try #require(pairs.first)
        // Independently: BOS, then one id per word of the word-level vocabulary.
        let bos = try #require(tokenizer.attributedIds(for: "fact").first)
        #expect(p.id == "good")
        #expect(p.clean == [bos] + clean.split(separator: " ").map { tokenizer.id(of: String($0))! })
        #expect(p.corrupt == [bos] + corrupt.split(separator: " ").map { tokenizer.id(of: String($0))! })
        #expect(p.answer == tokenizer.id(of: "austin") && p.wrong == tokenizer.id(of: "tallahassee"))
        let reasons = Dictionary(uniqueKeysWithValues: skipped.map { ($0.id, $0.reason) })
        #expect(skipped.map(\.id) == ["unknown", "length", "answer", "wrong", "missing", "json"])
        #expect(reasons["unknown"] == "\"corrupt\": 'gotham' not in the vocabulary")
        #expect(reasons["length"] == "the clean prompt has 11 tokens, the corrupt one 9: a pair's prompts must have the same token length")
        #expect(reasons["answer"] == "\"answer\" 'austin texas' is 2 tokens, not one")
        #expect(reasons["wrong"] == "\"wrong\" 'metropolis' is not in the vocabulary")
        #expect(reasons["missing"] == "missing \"wrong\" (a string)")
        #expect(reasons["json"] == "not a JSON object")
    }
}
