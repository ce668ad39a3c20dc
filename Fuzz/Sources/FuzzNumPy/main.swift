// Feeds a `.npy` array to `NumPyArray(data:)` and converts what it accepts to Float, Double and Int.
import Foundation
import FuzzSupport
import Tracer

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumPy(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let array = try? NumPyArray(data: fuzzData(start, count)), array.count <= 1 << 16 else { return 0 }
    _ = array.floats
    _ = array.ints
    _ = array.bools
    return 0
}
