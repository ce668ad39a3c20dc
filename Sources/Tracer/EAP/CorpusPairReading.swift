import Foundation
import Tokenizers

/// How an EAP corpus job's worker turns the JSONL lines of its task into tokenized prompt pairs:
/// the one place the corpus pipeline reads pairs (`circuits eap` has its own pair-file parser,
/// which can replace this one; keep the skip reasons one string per pair).
///
/// A line is `{"id", "clean", "corrupt", "answer", "wrong"}` (strings; `id` already read by the
/// coordinator, `Corpus.loadPairLines`). A pair is skipped, with its reason, when a field is
/// missing, a prompt is empty, has a word outside the vocabulary (mapped to the unknown token) or
/// is longer than the context, its two prompts differ in token length, or `answer` / `wrong` is
/// not one token. Answers are encoded as given, as `circuits eap`'s pair files are (the
/// word-level demo tokenizer takes `austin`; byte-level BPE needs the leading space, ` Paris`).
public enum CorpusPairReading {
    /// A pair that cannot be scored, and why.
    public struct Skipped: Sendable, Equatable {
        public var id: String
        public var reason: String
    }

    /// The pairs of `lines` (`id`, the JSON line) that can be scored, in order, and the others.
    public static func read(_ lines: [(id: String, line: String)], tokenizer: Tokenizer, config: ModelConfig)
        -> (pairs: [PromptPair], skipped: [Skipped]) {
        var pairs: [PromptPair] = [], skipped: [Skipped] = []
        for (id, line) in lines {
            do { pairs.append(try pair(id: id, line: line, tokenizer: tokenizer, config: config)) } catch let error as PairError {
                skipped.append(Skipped(id: id, reason: error.reason))
            } catch {
                skipped.append(Skipped(id: id, reason: "\(error)"))
            }
        }
        return (pairs, skipped)
    }

    struct PairError: Error { var reason: String }

    static func pair(id: String, line: String, tokenizer: Tokenizer, config: ModelConfig) throws -> PromptPair {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw PairError(reason: "not a JSON object")
        }
        func field(_ name: String) throws -> String {
            guard let s = object[name] as? String else { throw PairError(reason: "missing \"\(name)\" (a string)") }
            guard !s.trimmingCharacters(in: .whitespaces).isEmpty else { throw PairError(reason: "\"\(name)\" is empty") }
            return s
        }
        let clean = try prompt("clean", try field("clean"), tokenizer: tokenizer, config: config)
        let corrupt = try prompt("corrupt", try field("corrupt"), tokenizer: tokenizer, config: config)
        guard clean.count == corrupt.count else {
            throw PairError(reason: "the clean prompt has \(clean.count) tokens, the corrupt one \(corrupt.count): a pair's prompts must have the same token length")
        }
        return PromptPair(id: id, clean: clean, corrupt: corrupt,
                          answer: try word("answer", try field("answer"), tokenizer: tokenizer, config: config),
                          wrong: try word("wrong", try field("wrong"), tokenizer: tokenizer, config: config))
    }

    /// A prompt's ids, BOS included, as `TraceSession.tokens(for:)` makes them.
    static func prompt(_ name: String, _ text: String, tokenizer: Tokenizer, config: ModelConfig) throws -> [Int] {
        let ids: [Int]
        do { ids = try tokenizer.attributedIds(for: text) } catch { throw PairError(reason: "\"\(name)\": \(error)") }
        let unknown = unknownWords(text, tokenizer: tokenizer)
        guard unknown.isEmpty else {
            throw PairError(reason: "\"\(name)\": \(unknown.map { "'\($0)'" }.joined(separator: ", ")) not in the vocabulary")
        }
        guard ids.count <= config.nCtx else { throw PairError(reason: "\"\(name)\" has \(ids.count) tokens, more than the context (\(config.nCtx))") }
        if let bad = ids.first(where: { $0 >= config.nVocab }) {
            throw PairError(reason: "\"\(name)\": token id \(bad) is outside the model's vocabulary (\(config.nVocab))")
        }
        return ids
    }

    /// The answer token of `text`: its single token, encoded as given (no special tokens).
    static func word(_ name: String, _ text: String, tokenizer: Tokenizer, config: ModelConfig) throws -> Int {
        let ids: [Int]
        do { ids = try tokenizer.encode(text) } catch { throw PairError(reason: "\"\(name)\": \(error)") }
        guard ids.count == 1 else { throw PairError(reason: "\"\(name)\" '\(text)' is \(ids.count) tokens, not one") }
        guard unknownWords(text, tokenizer: tokenizer).isEmpty else { throw PairError(reason: "\"\(name)\" '\(text)' is not in the vocabulary") }
        guard ids[0] < config.nVocab else { throw PairError(reason: "\"\(name)\": token id \(ids[0]) is outside the model's vocabulary (\(config.nVocab))") }
        return ids[0]
    }

    /// The whitespace-separated words of `text` that tokenize to the unknown token (when the
    /// tokenizer has one and the word is not that token itself).
    static func unknownWords(_ text: String, tokenizer: Tokenizer) -> [String] {
        guard let unk = tokenizer.unkTokenId else { return [] }
        let unkText = tokenizer.tokenString(unk)
        return text.split(whereSeparator: \.isWhitespace).map(String.init).filter { w in
            w != unkText && ((try? tokenizer.encode(w)) ?? []).contains(unk)
        }
    }
}
