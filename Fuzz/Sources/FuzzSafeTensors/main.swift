// Feeds a whole `.safetensors` file (8-byte header length, JSON header, payload) to
// `SafeTensorsFile`, then reads every float tensor it accepted: a header it accepts must
// describe bytes that exist.
import Foundation
import FuzzSupport
import Tracer

enum Scratch { static let file = ScratchFile("fuzz.safetensors") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let file = try? SafeTensorsFile(Scratch.file.write(start, count)) else { return 0 }
    for (name, info) in file.tensors where info.count <= 1 << 16 {
        _ = try? file.floats(name)
        if let rows = info.shape.first, rows > 0 { _ = try? file.rows(name, [0, rows - 1]) }
    }
    return 0
}
