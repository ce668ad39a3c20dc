import Foundation
import Storage

extension ShardWriter {
    /// Writes the shard of an EAP task: `/meta`, `/prompts` (one row per pair of the task,
    /// scored or skipped with its reason) and `/eap` (the task's `EdgeScoreSums`), atomically.
    /// - Throws: `HDF5Error` or `AtomicFileError`; `url` is then untouched.
    public static func write(_ sums: EdgeScoreSums, prompts: PromptTable, meta: ShardMeta, to url: URL) throws {
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try meta.write(into: f)
            try prompts.write(into: f, withTask: false)
            try EdgeScoreSumsFile.write(sums, into: f)
        }
    }
}
