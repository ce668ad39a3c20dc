import Foundation

/// Inputs that crashed a fuzz target (`Fuzz/`, docs/fuzzing.md), minimised and committed under
/// `Fuzz/Regressions/<target>/`. The regression tests feed each to the same API as the target
/// and expect an error (or a value), never a crash; `scripts/fuzz.sh` replays them too.
public enum FuzzRegressions {
    public static let root = repositoryRoot.appendingPathComponent("Fuzz/Regressions")

    /// The bytes of input `name` of fuzz target `target` (e.g. `FuzzSafeTensors`).
    public static func input(_ target: String, _ name: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(target).appendingPathComponent(name))
    }

    /// The names of every committed input of `target`, sorted (empty when there are none).
    public static func names(_ target: String) -> [String] {
        let folder = root.appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Writes input `name` of `target` into `folder` as `fileName` (loaders that read a path or a
    /// folder holding one named file); returns the file's URL.
    public static func write(_ target: String, _ name: String, into folder: URL, as fileName: String) throws -> URL {
        let url = folder.appendingPathComponent(fileName)
        try input(target, name).write(to: url)
        return url
    }
}
