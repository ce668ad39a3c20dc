// Feeds a wire frame to `MessageCodec.decode`; a message it accepts must encode and decode back
// to itself, and a job it carries goes through the worker's checks (`JobSpec.validate`).
import Foundation
import FuzzSupport
import Shared

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessage(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let message = try? MessageCodec.decode(fuzzData(start, count)) else { return 0 }
    _ = message.kind
    if case let .job(spec) = message {
        try? spec.validate(source: "fuzz")
        _ = spec.hash
    }
    let frame = try! MessageCodec.encode(message)
    precondition(try! MessageCodec.decode(frame) == message, "message changed in its round trip")
    return 0
}
