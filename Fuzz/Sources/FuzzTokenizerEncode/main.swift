// Encodes the input (as UTF-8 text, invalid bytes replaced) with every tokenizer of
// Tests/Fixtures/tokenizers (GPT-2, Llama-3, Qwen2, Gemma, Metaspace and subword BPE,
// WordLevel), then decodes the ids: arbitrary prompts through real tokenizers.
import Foundation
import Tokenizers

enum Fixtures {
    /// Loaded once per process, from the repository this file lives in.
    static let tokenizers: [Tokenizer] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Tests/Fixtures/tokenizers")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        let loaded = names.compactMap { name -> Tokenizer? in
            let dir = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("tokenizer.json").path) else { return nil }
            do { return try Tokenizer(modelDirectory: dir) } catch { fatalError("fixture tokenizer \(name): \(error)") }
        }
        guard !loaded.isEmpty else { fatalError("no fixture tokenizers under \(folder.path)") }
        return loaded
    }()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizerEncode(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for tokenizer in Fixtures.tokenizers {
        guard let ids = try? tokenizer.encode(text, addSpecialTokens: true) else { continue }
        _ = tokenizer.decode(ids, skipSpecialTokens: true)
    }
    return 0
}
