// Feeds a Hugging Face `config.json` to `ModelConfig(directory:)` (a folder holding that one file).
import Foundation
import FuzzSupport
import Tracer

enum Scratch { static let file = ScratchFile("config.json") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    Scratch.file.write(start, count)
    _ = try? ModelConfig(directory: Scratch.file.directory)
    return 0
}
