import Foundation
import Testing
import TestSupport
import Tokenizers

// Tokenizer tests: every id and decode checked against what Hugging Face `tokenizers` produced
// (reference fixtures, our generated fixtures), circuit-tracer's BOS rule against the reference
// cases, and the load / encode errors.

/// Our generated fixtures (`generate_tokenizer_fixtures.py`).
private let fixtureRoot = repositoryRoot.appendingPathComponent("Tests/Fixtures/tokenizers")

/// Sub-folders of `root` holding a `tokenizer.json`, sorted (discovered, never listed by name).
private func tokenizerFolders(in root: URL) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
    return names.sorted().filter {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/tokenizer.json").path)
    }
}

/// One recorded string: what `tokenizers` returned for it.
private struct RecordedCase: Decodable {
    let text: String
    let ids: [Int]?
    let idsWithSpecialTokens: [Int]?
    let decoded: String?
    let decodedSkipSpecial: String?
    let decodedKeepSpecial: String?
    /// Set when `tokenizers` failed on the string.
    let error: String?
    /// With `error`: the word missing from the vocabulary.
    let unknownWord: String?

    enum CodingKeys: String, CodingKey {
        case text, ids, decoded, error
        case idsWithSpecialTokens = "ids_with_special_tokens"
        case decodedSkipSpecial = "decoded_skip_special"
        case decodedKeepSpecial = "decoded_keep_special"
        case unknownWord = "unknown_word"
    }
}

private struct RecordedCases: Decodable {
    let cases: [RecordedCase]
}

/// Reads a cases file with `JSONDecoder` (`JSONSerialization` on Linux drops a raw U+FEFF at
/// the start of a string value, and one recorded string starts with it).
private func loadRecordedCases(_ url: URL) throws -> [RecordedCase] {
    try JSONDecoder().decode(RecordedCases.self, from: Data(contentsOf: url)).cases
}

/// Byte-exact string equality (Swift's `==` treats "é" and "e\u{301}" as equal).
private func same(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.elementsEqual(rhs.utf8) }

/// Every disagreement between `tokenizer` and the recorded cases, one line per failing check,
/// naming the string.
private func mismatches(_ tokenizer: Tokenizer, _ cases: [RecordedCase]) -> [String] {
    var failures: [String] = []
    for recorded in cases {
        let name = String(reflecting: recorded.text.count > 80 ? String(recorded.text.prefix(80)) + "…" : recorded.text)
        if recorded.error != nil {
            let word = recorded.unknownWord ?? ""
            do {
                let ids = try tokenizer.encode(recorded.text)
                failures.append("\(name): expected unknownToken(\(String(reflecting: word))), got \(ids)")
            } catch let error as TokenizerError {
                if error != .unknownToken(word) { failures.append("\(name): expected unknownToken(\(String(reflecting: word))), got \(error)") }
            } catch {
                failures.append("\(name): unexpected error \(error)")
            }
            continue
        }
        guard let expectedIds = recorded.ids, let expectedSpecial = recorded.idsWithSpecialTokens else {
            failures.append("\(name): fixture has neither ids nor error")
            continue
        }
        do {
            let ids = try tokenizer.encode(recorded.text, addSpecialTokens: false)
            if ids != expectedIds { failures.append("\(name): ids \(ids) != \(expectedIds)") }
            let special = try tokenizer.encode(recorded.text, addSpecialTokens: true)
            if special != expectedSpecial { failures.append("\(name): ids with special tokens \(special) != \(expectedSpecial)") }
        } catch {
            failures.append("\(name): encode threw \(error)")
        }
        let decodes: [(String, String?, String)] = [
            ("decode(ids, skip)", recorded.decoded, tokenizer.decode(expectedIds, skipSpecialTokens: true)),
            ("decode(special ids, skip)", recorded.decodedSkipSpecial, tokenizer.decode(expectedSpecial, skipSpecialTokens: true)),
            ("decode(special ids, keep)", recorded.decodedKeepSpecial, tokenizer.decode(expectedSpecial, skipSpecialTokens: false)),
        ]
        for (what, expected, actual) in decodes {
            if let expected, !same(expected, actual) {
                failures.append("\(name): \(what) \(String(reflecting: actual)) != \(String(reflecting: expected))")
            }
        }
    }
    return failures
}

@Suite("Tokenizer")
struct TokenizerTests {
    // MARK: Reference fixtures (README §9)

    @Test("reference tokenizer fixtures: ids, ids with special tokens and decodes of 300 strings",
          arguments: tokenizerFolders(in: referencePath("tokenizers")))
    func referenceFixture(name: String) throws {
        let folder = referencePath("tokenizers/\(name)")
        let tokenizer = try Tokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        let cases = try loadRecordedCases(folder.appendingPathComponent("tokenizer_cases.json"))
        #expect(cases.count >= 300)
        let failures = mismatches(tokenizer, cases)
        #expect(failures.isEmpty, "\(name): \(failures.count) mismatches:\n\(failures.prefix(20).joined(separator: "\n"))")
    }

    // MARK: Generated fixtures

    @Test("generated fixtures (GPT-2, Llama-3, Qwen-2, Gemma, Llama-2 BPE; WordLevel) match tokenizers",
          arguments: tokenizerFolders(in: fixtureRoot))
    func generatedFixture(name: String) throws {
        let folder = fixtureRoot.appendingPathComponent(name)
        let tokenizer = try Tokenizer(modelDirectory: folder)
        let cases = try loadRecordedCases(folder.appendingPathComponent("cases.json"))
        #expect(cases.count >= 100)
        let failures = mismatches(tokenizer, cases)
        #expect(failures.isEmpty, "\(name): \(failures.count) mismatches:\n\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test("the fixture folder holds the generator and several fixtures")
    func fixturesPresent() {
        #expect(FileManager.default.fileExists(atPath: fixtureRoot.appendingPathComponent("generate_tokenizer_fixtures.py").path))
        #expect(tokenizerFolders(in: fixtureRoot).count >= 6)
    }

    // MARK: Reference cases: circuit-tracer's ensure_tokenized

    @Test("attributedIds reproduces input_tokens.npy and prompt_token_ids.json", arguments: referenceCases())
    func referenceCase(run: ReferenceRun) throws {
        let tokenizer = try Tokenizer(modelDirectory: run.modelDir)
        let attributed = try tokenizer.attributedIds(for: run.prompt)
        #expect(attributed == (try run.array("input_tokens")).ints, "\(run)")

        let url = run.caseDir.appendingPathComponent("prompt_token_ids.json")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        #expect(try tokenizer.encode(run.prompt) == record["token_ids_without_bos"] as? [Int], "\(run)")
        #expect(attributed == record["token_ids_attributed"] as? [Int], "\(run)")
        #expect(attributed.map { tokenizer.tokenString($0) ?? "?" } == record["tokens_attributed"] as? [String], "\(run)")
    }

    // MARK: BOS rule and special-token roles

    struct BOSCase: CustomTestStringConvertible, Sendable {
        let label: String
        let config: String?
        let prompt: String
        /// Expected ids, or nil when `attributedIds` must throw `noBeginningOfSequenceToken`.
        let expected: [Int]?
        var testDescription: String { label }
    }

    /// A WordLevel vocabulary: <unk> 0, <s> 1, </s> 2, <pad> 3, the 4, cat 5.
    static let wordLevelJSON = """
        {"version": "1.0", "added_tokens": [
          {"id": 0, "content": "<unk>", "special": true, "normalized": false},
          {"id": 1, "content": "<s>", "special": true, "normalized": false},
          {"id": 2, "content": "</s>", "special": true, "normalized": false},
          {"id": 3, "content": "<pad>", "special": true, "normalized": false}],
         "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null, "decoder": null,
         "model": {"type": "WordLevel", "unk_token": "<unk>",
                   "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 3, "the": 4, "cat": 5}}}
        """

    static let bosCases: [BOSCase] = [
        BOSCase(label: "bos prepended", config: #"{"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}"#,
                prompt: "the cat", expected: [1, 4, 5]),
        BOSCase(label: "first id special (unk 0): nothing prepended",
                config: #"{"bos_token": "<s>", "unk_token": "<unk>"}"#, prompt: "zebra cat", expected: [0, 5]),
        BOSCase(label: "first id special (</s>): nothing prepended",
                config: #"{"bos_token": "<s>", "eos_token": "</s>"}"#, prompt: "</s> cat", expected: [2, 5]),
        BOSCase(label: "unk not a role: the unknown word gets a bos",
                config: #"{"bos_token": "<s>"}"#, prompt: "zebra cat", expected: [1, 0, 5]),
        BOSCase(label: "no bos: pad", config: #"{"pad_token": "<pad>", "eos_token": "</s>"}"#,
                prompt: "cat", expected: [3, 5]),
        BOSCase(label: "no bos, no pad: eos", config: #"{"eos_token": {"content": "</s>", "lstrip": false}}"#,
                prompt: "cat", expected: [2, 5]),
        BOSCase(label: "bos is id 0 (falsy): skipped for eos", config: #"{"bos_token": "<unk>", "eos_token": "</s>"}"#,
                prompt: "cat", expected: [2, 5]),
        BOSCase(label: "only additional special tokens", config: #"{"additional_special_tokens": ["<unk>", "<pad>"]}"#,
                prompt: "cat", expected: [3, 5]),
        BOSCase(label: "every candidate is 0: error", config: #"{"bos_token": "<unk>", "unk_token": "<unk>"}"#,
                prompt: "cat", expected: nil),
        BOSCase(label: "no config: special added tokens by id (0 skipped)", config: nil, prompt: "cat", expected: [1, 5]),
    ]

    @Test("attributedIds follows ensure_tokenized", arguments: bosCases)
    func bosRule(_ bosCase: BOSCase) throws {
        let folder = try temporaryFolder(files: ["tokenizer.json": Self.wordLevelJSON, "tokenizer_config.json": bosCase.config])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(modelDirectory: folder)
        if let expected = bosCase.expected {
            #expect(try tokenizer.attributedIds(for: bosCase.prompt) == expected)
        } else {
            #expect(throws: TokenizerError.noBeginningOfSequenceToken(file: folder.appendingPathComponent("tokenizer.json").path)) {
                try tokenizer.attributedIds(for: bosCase.prompt)
            }
        }
    }

    @Test("empty prompt is an error")
    func emptyPrompt() throws {
        let tokenizer = try Tokenizer(modelDirectory: fixtureRoot.appendingPathComponent("gpt2_bpe"))
        #expect(throws: TokenizerError.emptyPrompt) { try tokenizer.attributedIds(for: "") }
    }

    @Test("roles, all_special_ids order and vocabulary size from tokenizer_config.json")
    func roles() throws {
        let gemma = try Tokenizer(modelDirectory: fixtureRoot.appendingPathComponent("gemma_bpe"))
        let (pad, eos, bos, unk) = (gemma.id(of: "<pad>"), gemma.id(of: "<eos>"), gemma.id(of: "<bos>"), gemma.id(of: "<unk>"))
        #expect([pad, eos, bos, unk] == [0, 1, 2, 3])
        #expect(gemma.bosTokenId == 2 && gemma.eosTokenId == 1 && gemma.padTokenId == 0 && gemma.unkTokenId == 3)
        let turns = [gemma.id(of: "<start_of_turn>"), gemma.id(of: "<end_of_turn>")].compactMap { $0 }
        // transformers order: bos, eos, unk, sep, pad, cls, mask, then additional_special_tokens.
        #expect(gemma.specialTokenIds == [2, 1, 3, 0] + turns)
        #expect(gemma.vocabularySize == (turns.max() ?? 0) + 1)
        #expect(gemma.tokenString(259) != nil && gemma.id(of: gemma.tokenString(259)!) == 259)
        #expect(gemma.tokenString(-1) == nil && gemma.tokenString(1_000_000) == nil)

        let reference = try Tokenizer(tokenizerJSON: referencePath("tokenizers/bytelevel_bpe/tokenizer.json"))
        #expect(reference.vocabularySize == 1000)
        #expect(reference.specialTokenIds == [0] && reference.bosTokenId == nil)
        #expect(reference.id(of: "Ġ") != nil && reference.tokenString(0) == "<|endoftext|>")
    }

    @Test("vocabulary lookups are byte-exact: NFC and NFD forms are different tokens")
    func exactLookup() throws {
        let json = Self.wordLevelJSON.replacingOccurrences(of: #""cat": 5"#, with: #""caf\u00e9": 5, "cafe\u0301": 6"#)
        let folder = try temporaryFolder(files: ["tokenizer.json": json])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        #expect(try tokenizer.encode("caf\u{e9} cafe\u{301}") == [5, 6])
        #expect(tokenizer.id(of: "cafe\u{301}") == 6)
        #expect(tokenizer.tokenString(6)?.unicodeScalars.count == 5)
    }

    // MARK: Errors

    struct LoadErrorCase: CustomTestStringConvertible, Sendable {
        let label: String
        let json: String
        /// Substrings the error description must contain.
        let mentions: [String]
        var testDescription: String { label }
    }

    static let loadErrorCases: [LoadErrorCase] = [
        LoadErrorCase(label: "unknown model type",
                      json: #"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#, mentions: ["model", "Unigram"]),
        LoadErrorCase(label: "unknown pre-tokenizer",
                      json: #"{"pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}"#,
                      mentions: ["pre_tokenizer", "BertPreTokenizer"]),
        LoadErrorCase(label: "unknown normalizer inside a sequence",
                      json: #"{"normalizer": {"type": "Sequence", "normalizers": [{"type": "Precompiled"}]}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}"#,
                      mentions: ["normalizer", "Precompiled"]),
        LoadErrorCase(label: "unknown decoder",
                      json: #"{"decoder": {"type": "CTC"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}"#, mentions: ["decoder", "CTC"]),
        LoadErrorCase(label: "unknown post-processor",
                      json: #"{"post_processor": {"type": "Fancy"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}"#,
                      mentions: ["post_processor", "Fancy"]),
        LoadErrorCase(label: "merge out of vocabulary",
                      json: #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"#, mentions: ["a b", "ab"]),
        LoadErrorCase(label: "bad regex",
                      json: #"{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(?<"}, "behavior": "Isolated"}, "model": {"type": "WordLevel", "vocab": {"a": 0}}}"#,
                      mentions: ["pre_tokenizer.pattern.Regex", "(?<"]),
        LoadErrorCase(label: "missing model", json: #"{"normalizer": null}"#, mentions: ["model"]),
        LoadErrorCase(label: "malformed JSON", json: #"{"model": {"type": "BPE", "#, mentions: ["invalid JSON"]),
    ]

    @Test("load errors name the component type, the field and the file", arguments: loadErrorCases)
    func loadError(_ errorCase: LoadErrorCase) throws {
        let folder = try temporaryFolder(files: ["tokenizer.json": errorCase.json])
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("tokenizer.json")
        do {
            _ = try Tokenizer(tokenizerJSON: path)
            Issue.record("\(errorCase.label): loading succeeded")
        } catch {
            let message = "\(error)"
            for mention in errorCase.mentions + [path.path] {
                #expect(message.contains(mention), "\(errorCase.label): '\(message)' does not mention '\(mention)'")
            }
        }
    }

    @Test("a missing tokenizer.json is an error naming the path")
    func missingFile() {
        let folder = URL(fileURLWithPath: "/nonexistent/tokenizer-\(UUID().uuidString)")
        let path = folder.appendingPathComponent("tokenizer.json").path
        #expect(throws: TokenizerError.fileNotFound(path, what: "tokenizer.json")) { try Tokenizer(modelDirectory: folder) }
        #expect(throws: TokenizerError.fileNotFound(path, what: "tokenizer.json")) {
            try Tokenizer(tokenizerJSON: URL(fileURLWithPath: path))
        }
        #expect(TokenizerError.fileNotFound(path, what: "tokenizer.json").description.contains(path))
    }

    @Test("a WordLevel word outside the vocabulary with no unk token is unknownToken(word)",
          arguments: [("the zebra", "zebra"), ("Cat", "Cat"), ("the cat dog", "dog")])
    func unknownWord(prompt: String, word: String) throws {
        let json = Self.wordLevelJSON.replacingOccurrences(of: #""unk_token": "<unk>","#, with: "")
        let folder = try temporaryFolder(files: ["tokenizer.json": json])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenizer = try Tokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        #expect(throws: TokenizerError.unknownToken(word)) { try tokenizer.encode(prompt) }
        #expect(try tokenizer.encode("the cat") == [4, 5])
    }

    // MARK: Performance

    @Test("a 4,000-token prompt tokenizes quickly and round-trips",
          arguments: ["llama3_bpe", "gemma_bpe", "qwen2_bpe", "wordlevel"])
    func longPrompt(name: String) throws {
        let tokenizer = try Tokenizer(modelDirectory: fixtureRoot.appendingPathComponent(name))
        let words = ["the", "attribution", "graph", ",", "model", "replacement", "of", "1234", "\n", "residual"]
        let prompt = (0..<4500).map { words[($0 * 7 + $0 / 10) % words.count] }.joined(separator: " ")
        let start = Date()
        let ids = try tokenizer.encode(prompt)
        let seconds = Date().timeIntervalSince(start)
        #expect(ids.count >= 4000, "\(name): \(ids.count) tokens")
        if name != "wordlevel" {  // WordLevel has no decoder: tokens are joined by spaces
            let roundTrips = same(tokenizer.decode(ids), prompt)
            #expect(roundTrips, "\(name): decode(encode(prompt)) differs from the prompt")
        }
        // Generous bound: debug builds are ~10× slower than release (which takes milliseconds).
        #expect(seconds < 10, "\(name): encoding \(ids.count) tokens took \(seconds) s")
    }
}

/// A fresh temporary folder holding `files` (name → contents; nil contents are skipped).
private func temporaryFolder(files: [String: String?]) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, contents) in files {
        guard let contents else { continue }
        try contents.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return folder
}
