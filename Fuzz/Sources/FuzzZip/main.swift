// Feeds a zip archive (`.npz`) to `ZipArchive`, extracts every entry it lists (stored or
// deflated, CRC checked) and parses each as a NumPy array, as transcoder `.npz` files are read.
import Foundation
import FuzzSupport
import Tracer

enum Scratch { static let file = ScratchFile("fuzz.npz") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let archive = try? ZipArchive(Scratch.file.write(start, count)) else { return 0 }
    for entry in archive.entries.prefix(64) {
        guard let data = try? archive.contents(of: entry) else { continue }
        if let array = try? NumPyArray(data: data), array.count <= 1 << 16 { _ = array.floats }
    }
    return 0
}
