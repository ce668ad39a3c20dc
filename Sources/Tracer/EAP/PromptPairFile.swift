import Foundation
import Storage
import Tokenizers

/// An EAP task file (`PAIRS.jsonl`): one JSON object per line,
/// `{"id"?: string, "clean": string, "corrupt": string, "answer": string, "wrong": string}`,
/// tokenized with the model folder's tokenizer.
///
/// - Prompts are tokenized as `circuits trace` does (`Tokenizer.attributedIds`: no special
///   tokens, BOS prepended), so both carry BOS and must have the same number of tokens.
/// - `answer` and `wrong` are the text that would follow the prompt, encoded as given (no
///   special tokens, no added space) and must each be exactly one token. Word-level tokenizers
///   (models/demo) take the plain word (`"austin"`); byte-level BPE (GPT-2, Llama 3) needs the
///   leading space that the word has after the prompt (`" Paris"`, whose token is `ĠParis`).
/// - A word the vocabulary lacks, where the tokenizer would silently map it to its unknown token,
///   is an error too (a literal unknown-token string in the text is not).
///
/// A bad line (not JSON, a missing or non-string field, an id used before, a prompt or answer
/// that fails the rules above) is kept as a skipped entry with its reason; the other lines are
/// unaffected. Blank lines are ignored.
public struct PromptPairFile: Sendable {
    /// One non-blank line: a pair or the reason it was skipped.
    public struct Entry: Sendable, Equatable {
        /// 1-based line number in the file.
        public var line: Int
        /// The `id` field, else `line-N`.
        public var id: String
        public var pair: PromptPair?
        public var reason: String?

        public init(line: Int, id: String, pair: PromptPair?, reason: String?) {
            self.line = line
            self.id = id
            self.pair = pair
            self.reason = reason
        }
    }

    public var path: String
    public var entries: [Entry]

    public var pairs: [PromptPair] { entries.compactMap(\.pair) }
    public var skipped: [Entry] { entries.filter { $0.pair == nil } }

    /// One line for a skipped entry: `PAIRS.jsonl:7 (id p7): skipped: <reason>`.
    public func message(for e: Entry) -> String { "\(path):\(e.line) (id \(e.id)): skipped: \(e.reason ?? "")" }

    /// Reads and tokenizes `url`.
    ///
    /// - Parameters:
    ///   - nVocab, nCtx: the model's vocabulary and context: ids must be below `nVocab`, prompts at most `nCtx` tokens.
    /// - Throws: `TracerError.fileNotFound` / `.malformedFile` when the file cannot be read as UTF-8 text
    ///   (bad lines are entries, not errors).
    public static func read(_ url: URL, tokenizer: Tokenizer, nVocab: Int, nCtx: Int) throws -> PromptPairFile {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) { throw TracerError.malformedFile(path, "cannot read the pair file (a folder, or no permission)") }
            throw TracerError.fileNotFound(path, what: "pair file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw TracerError.malformedFile(path, "the pair file is not UTF-8 text") }
        let reader = LineReader(tokenizer: tokenizer, nVocab: nVocab, nCtx: nCtx)
        var entries: [Entry] = [], seen = Set<String>()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.allSatisfy(\.isWhitespace) { continue }
            var e = reader.entry(String(line), line: n + 1)
            if e.pair != nil, !seen.insert(e.id).inserted {
                e.pair = nil
                e.reason = "id '\(e.id)' is used by an earlier line"
            }
            entries.append(e)
        }
        return PromptPairFile(path: path, entries: entries)
    }
}

extension PromptPairFile {
    /// The pairs of an EAP corpus task: the lines the coordinator sent with the ids it gave them
    /// (`Corpus.loadPairLines`), read by the rules above; the others with their reasons.
    public static func read(lines: [(id: String, line: String)], tokenizer: Tokenizer, nVocab: Int, nCtx: Int)
        -> (pairs: [PromptPair], skipped: [(id: String, reason: String)]) {
        let reader = LineReader(tokenizer: tokenizer, nVocab: nVocab, nCtx: nCtx)
        var pairs: [PromptPair] = [], skipped: [(id: String, reason: String)] = []
        for (id, line) in lines {
            let e = reader.entry(line, line: 0)
            if var p = e.pair {
                p.id = id
                pairs.append(p)
            } else {
                skipped.append((id, e.reason ?? "unreadable"))
            }
        }
        return (pairs, skipped)
    }
}

/// Turns one line into an entry; every rule of `PromptPairFile` is checked here.
struct LineReader {
    let tokenizer: Tokenizer
    let nVocab: Int
    let nCtx: Int

    /// A rule broken by a line: the reason, as the entry states it.
    struct Bad: Error { var reason: String }

    func entry(_ text: String, line: Int) -> PromptPairFile.Entry {
        var id = "line-\(line)"
        do {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw Bad(reason: "not a JSON object")
            }
            if let raw = object["id"] {
                guard let s = raw as? String, !s.isEmpty else { throw Bad(reason: "field 'id' must be a non-empty string") }
                id = s
            }
            func field(_ name: String) throws -> String {
                guard let raw = object[name] else { throw Bad(reason: "missing field '\(name)'") }
                guard let s = raw as? String else { throw Bad(reason: "field '\(name)' must be a string") }
                return s
            }
            let clean = try prompt(try field("clean"), "clean"), corrupt = try prompt(try field("corrupt"), "corrupt")
            guard clean.count == corrupt.count else {
                throw Bad(reason: "clean has \(clean.count) tokens and corrupt \(corrupt.count) (BOS included); a pair needs the same number")
            }
            let answer = try single(try field("answer"), "answer"), wrong = try single(try field("wrong"), "wrong")
            guard answer != wrong else { throw Bad(reason: "answer and wrong are the same token (\(answer))") }
            return .init(line: line, id: id, pair: PromptPair(id: id, clean: clean, corrupt: corrupt, answer: answer, wrong: wrong), reason: nil)
        } catch let bad as Bad {
            return .init(line: line, id: id, pair: nil, reason: bad.reason)
        } catch {
            return .init(line: line, id: id, pair: nil, reason: "\(error)")
        }
    }

    /// The prompt's ids, BOS included, as `circuits trace` tokenizes it.
    func prompt(_ text: String, _ name: String) throws -> [Int] {
        let ids: [Int]
        do { ids = try tokenizer.attributedIds(for: text) } catch { throw Bad(reason: "\(name): \(error)") }
        guard ids.count >= 2 else { throw Bad(reason: "\(name) is empty") }
        guard ids.count <= nCtx else { throw Bad(reason: "\(name) has \(ids.count) tokens (BOS included) but the model's context is \(nCtx)") }
        try checkKnown(ids.dropFirst(), text: text, name)
        return ids
    }

    /// The one id of an answer text.
    func single(_ text: String, _ name: String) throws -> Int {
        let ids: [Int]
        do { ids = try tokenizer.encode(text) } catch { throw Bad(reason: "\(name): \(error)") }
        guard ids.count == 1 else {
            let pieces = ids.map { "'\(tokenizer.tokenString($0) ?? "?")'" }.joined(separator: " ")
            let hint = text.hasPrefix(" ") || tokenizer.encode(probing: " " + text)?.count != 1
                ? "" : " (this tokenizer marks a word after a space: write \"\(" " + text)\")"
            throw Bad(reason: "\(name) '\(text)' is \(ids.count) tokens\(ids.isEmpty ? "" : " (\(pieces))"), not one\(hint)")
        }
        try checkKnown(ids[...], text: text, name)
        return ids[0]
    }

    /// Ids must be in the model's vocabulary, and the unknown token may stand only where the text
    /// writes it literally (a word-level tokenizer maps any unknown word to it silently).
    func checkKnown(_ ids: ArraySlice<Int>, text: String, _ name: String) throws {
        for id in ids where id >= nVocab { throw Bad(reason: "\(name): token id \(id) is outside the model's vocabulary (\(nVocab))") }
        guard let unk = tokenizer.unkTokenId, let unkText = tokenizer.tokenString(unk) else { return }
        let literal = text.components(separatedBy: unkText).count - 1
        guard ids.lazy.filter({ $0 == unk }).count > literal else { return }
        let word = text.split(whereSeparator: \.isWhitespace).first { w in
            !w.contains(unkText) && (tokenizer.encode(probing: String(w))?.contains(unk) ?? false)
        }
        throw Bad(reason: "\(name) holds a word outside the vocabulary\(word.map { " ('\($0)')" } ?? "") that would be read as the unknown token '\(unkText)'")
    }
}

extension Tokenizer {
    /// `encode`, nil when it throws (for hints and probes only).
    func encode(probing text: String) -> [Int]? { try? encode(text) }
}
