import Foundation

/// One prompt of a corpus.
public struct PromptItem: Codable, Sendable, Equatable {
    public var id: String
    public var text: String
    /// An optional concept the prompt is about (JSONL field `label`, e.g. the intermediate entity
    /// of a two-hop fact). Labels group the corpus statistics and let the report measure how
    /// often a feature that responds to a prompt's concept appears in its pruned graph.
    public var label: String?
    public init(id: String, text: String, label: String? = nil) { self.id = id; self.text = text; self.label = label }
}

/// A corpus line that could not be read as a prompt; recorded as failed, never fatal.
public struct InvalidPrompt: Codable, Sendable, Equatable {
    /// The line's `id` when it could be read, else `line-N`.
    public var id: String
    /// 1-based line number.
    public var line: Int
    public var reason: String
}

/// A prompt corpus: JSONL (`{"id": "...", "prompt": "...", "label": "..."}` a line, label
/// optional; `.jsonl`/`.json`) or plain
/// text (one prompt a line, ids `line-N`). Blank lines are skipped. Bad lines (malformed JSON,
/// missing fields, duplicate ids, empty prompts) become `invalid` entries with their reason.
public struct Corpus: Sendable {
    public var prompts: [PromptItem]
    public var invalid: [InvalidPrompt]

    public init(prompts: [PromptItem], invalid: [InvalidPrompt] = []) {
        self.prompts = prompts; self.invalid = invalid
    }

    public static func load(_ url: URL) throws -> Corpus {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CorpusError(file: url.path, reason: FileManager.default.fileExists(atPath: url.path) ? "cannot read the file" : "no such file")
        }
        let jsonl = ["jsonl", "json", "ndjson"].contains(url.pathExtension.lowercased())
        let corpus = parse(data, jsonl: jsonl)
        guard !corpus.prompts.isEmpty || !corpus.invalid.isEmpty else { throw CorpusError(file: url.path, reason: "no prompts") }
        return corpus
    }

    public static func parse(_ text: String, jsonl: Bool) -> Corpus { parse(Data(text.utf8), jsonl: jsonl) }

    /// The corpus in `bytes`, decoded line by line: a line that is not UTF-8 is one invalid
    /// entry (naming the byte offset within the line), not a reason to reject the corpus.
    public static func parse(_ bytes: Data, jsonl: Bool) -> Corpus {
        var prompts: [PromptItem] = [], invalid: [InvalidPrompt] = [], seen = Set<String>()
        // Lines end at "\n", a "\r" before it belongs to the line end; a UTF-8 byte-order mark
        // at the start is not text.
        let utf8BOM = Data([0xEF, 0xBB, 0xBF])
        let body = bytes.starts(with: utf8BOM) ? bytes.dropFirst(3) : bytes[...]
        for (k, rawLine) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = k + 1
            let raw = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            if let offset = UTF8Text.firstInvalidOffset(in: raw) {
                invalid.append(InvalidPrompt(id: "line-\(number)", line: number, reason: "not UTF-8 text (invalid byte at offset \(offset) of the line)"))
                continue
            }
            let line = String(decoding: raw, as: UTF8.self)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard jsonl else {
                prompts.append(PromptItem(id: "line-\(number)", text: line))
                continue
            }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                invalid.append(InvalidPrompt(id: "line-\(number)", line: number, reason: "not a JSON object"))
                continue
            }
            let id: String
            switch object["id"] {
            case let s as String where !s.isEmpty: id = s
            case let n as NSNumber: id = n.stringValue
            default:
                invalid.append(InvalidPrompt(id: "line-\(number)", line: number, reason: "missing or empty \"id\""))
                continue
            }
            guard let prompt = object["prompt"] as? String else {
                invalid.append(InvalidPrompt(id: id, line: number, reason: "missing \"prompt\" (a string)"))
                continue
            }
            guard !prompt.isEmpty else {
                invalid.append(InvalidPrompt(id: id, line: number, reason: "empty prompt"))
                continue
            }
            guard seen.insert(id).inserted else {
                invalid.append(InvalidPrompt(id: "line-\(number)", line: number, reason: "duplicate id \"\(id)\" (first seen earlier)"))
                continue
            }
            if let label = object["label"], !(label is String) {
                invalid.append(InvalidPrompt(id: id, line: number, reason: "\"label\" must be a string"))
                continue
            }
            prompts.append(PromptItem(id: id, text: prompt, label: object["label"] as? String))
        }
        return Corpus(prompts: prompts, invalid: invalid)
    }
}

/// The corpus file as a whole cannot be used.
public struct CorpusError: Error, CustomStringConvertible {
    public var file: String
    public var reason: String
    public var description: String { "corpus \(file): \(reason)" }
}
