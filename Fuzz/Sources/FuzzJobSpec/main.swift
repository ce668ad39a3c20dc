// Feeds a job spec (YAML) to `JobSpec.load`; a spec it accepts must survive the JSON round
// trip workers receive it by (`job.json`, the `job` message) and hash.
import Foundation
import FuzzSupport
import Shared

enum Scratch { static let file = ScratchFile("job.yaml") }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJobSpec(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let spec = try? JobSpec.load(Scratch.file.write(start, count)) else { return 0 }
    _ = spec.hash
    let json = try! JSONEncoder().encode(spec)
    let back = try! JSONDecoder().decode(JobSpec.self, from: json)
    precondition(back == spec, "job spec changed in its JSON round trip")
    return 0
}
