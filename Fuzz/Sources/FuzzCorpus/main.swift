// Feeds a prompt corpus to `Corpus.load`, as JSONL and as plain text (the file's extension
// chooses): every line becomes a prompt or an `invalid` entry, never a failure of the whole file
// unless it is not UTF-8 or holds no prompts.
import Foundation
import FuzzSupport
import Storage

enum Scratch {
    static let jsonl = ScratchFile("corpus.jsonl")
    static let text = ScratchFile("corpus.txt")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCorpus(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    for file in [Scratch.jsonl, Scratch.text] {
        guard let corpus = try? Corpus.load(file.write(start, count)) else { continue }
        let ids = corpus.prompts.map(\.id)
        precondition(Set(ids).count == ids.count, "duplicate prompt ids in a loaded corpus")
    }
    return 0
}
