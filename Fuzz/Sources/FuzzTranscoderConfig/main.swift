// Feeds a transcoder folder's `config.yaml` to `TranscoderConfig(directory:)`.
import Foundation
import FuzzSupport
import Tracer

enum Scratch { static let file = ScratchFile("config.yaml") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTranscoderConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    Scratch.file.write(start, count)
    _ = try? TranscoderConfig(directory: Scratch.file.directory)
    return 0
}
