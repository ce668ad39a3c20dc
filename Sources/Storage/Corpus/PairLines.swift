import Foundation

extension Corpus {
    /// The lines of an EAP job's pairs file (`pairs:`), as the coordinator shards them: one
    /// `PromptItem` per non-blank line, its `id` the line's `"id"` (else `line-N`) and its `text`
    /// the whole JSON line, which the worker reads into a tokenized pair (Tracer's
    /// `PromptPairFile.read(lines:…)`, where a pair's own problems become its skip reason).
    ///
    /// Here only what the coordinator must know is checked: UTF-8, a JSON object, no NUL (HDF5
    /// strings end at NUL), an id seen once. A line failing that is an `invalid` entry with its
    /// reason, never fatal.
    public static func loadPairLines(_ url: URL) throws -> Corpus {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CorpusError(file: url.path, reason: FileManager.default.fileExists(atPath: url.path) ? "cannot read the file" : "no such file")
        }
        let corpus = parsePairLines(data)
        guard !corpus.prompts.isEmpty || !corpus.invalid.isEmpty else { throw CorpusError(file: url.path, reason: "no prompt pairs") }
        return corpus
    }

    public static func parsePairLines(_ bytes: Data) -> Corpus {
        var pairs: [PromptItem] = [], invalid: [InvalidPrompt] = [], seen = Set<String>()
        let utf8BOM = Data([0xEF, 0xBB, 0xBF])
        let body = bytes.starts(with: utf8BOM) ? bytes.dropFirst(3) : bytes[...]
        for (k, rawLine) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = k + 1, fallback = "line-\(number)"
            let raw = rawLine.last == 0x0D ? rawLine.dropLast() : rawLine
            if let offset = UTF8Text.firstInvalidOffset(in: raw) {
                invalid.append(InvalidPrompt(id: fallback, line: number, reason: "not UTF-8 text (invalid byte at offset \(offset) of the line)"))
                continue
            }
            let line = String(decoding: raw, as: UTF8.self)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                invalid.append(InvalidPrompt(id: fallback, line: number, reason: "not a JSON object"))
                continue
            }
            var id = fallback
            switch object["id"] {
            case nil: break
            case let s as String where !s.isEmpty: id = s
            case let n as NSNumber: id = n.stringValue
            default:
                invalid.append(InvalidPrompt(id: fallback, line: number, reason: "\"id\" must be a non-empty string or a number"))
                continue
            }
            guard !line.contains("\0") && !id.contains("\0") else {
                invalid.append(InvalidPrompt(id: fallback, line: number, reason: "contains a NUL character (U+0000)"))
                continue
            }
            guard seen.insert(id).inserted else {
                invalid.append(InvalidPrompt(id: fallback, line: number, reason: "duplicate id \"\(id)\" (first seen earlier)"))
                continue
            }
            pairs.append(PromptItem(id: id, text: line))
        }
        return Corpus(prompts: pairs, invalid: invalid)
    }
}
