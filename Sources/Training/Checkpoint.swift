import Foundation
import Tracer

/// Everything needed to continue training exactly where it stopped, in `OUT/checkpoint/`:
/// `state.json` (options, step, generator state, data-stream position, normalisation, dead
/// feature counters) and `tensors.safetensors` (the parameter arena, Adam's moments; F32, so
/// every value round-trips bit for bit). A new checkpoint is written beside the old one and
/// swapped in by renames, so an interruption never leaves a half-written checkpoint.
public struct Checkpoint: Sendable {
    /// `state.json`.
    public struct State: Codable, Equatable, Sendable {
        public var formatVersion = 1
        public var options: TrainingOptions
        public var layout: ParameterLayout
        public var step: Int
        public var adamSteps: Int
        /// `SeededRandom.state`, as a decimal string (JSON numbers lose 64-bit precision).
        public var randomState: String
        public var stream: ActivationStream.Position
        public var normalization: Normalization
        public var dead: DeadFeatures
        public var tokensSeen: Int
        public var seconds: Double
    }

    public var state: State
    public var parameters: [Float]
    public var adam: Adam

    public init(state: State, parameters: [Float], adam: Adam) {
        self.state = state; self.parameters = parameters; self.adam = adam
    }

    public static func folder(in out: URL) -> URL { out.appendingPathComponent("checkpoint") }

    /// Writes `out/checkpoint/` (atomically replacing an older one).
    public func write(in out: URL) throws {
        let fm = FileManager.default
        let final = Checkpoint.folder(in: out)
        let temp = out.appendingPathComponent("checkpoint.tmp"), old = out.appendingPathComponent("checkpoint.old")
        try? fm.removeItem(at: temp)
        try fm.createDirectory(at: temp, withIntermediateDirectories: true)
        var tensors: [SafeTensorsWriter.Tensor] = []
        for t in state.layout.tensors {
            tensors.append(.init("param.\(t.name)", t.shape, parameters[t.range]))
            tensors.append(.init("adam_m.\(t.name)", t.shape, adam.m[t.range]))
            tensors.append(.init("adam_v.\(t.name)", t.shape, adam.v[t.range]))
        }
        try SafeTensorsWriter.write(tensors, to: temp.appendingPathComponent("tensors.safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: temp.appendingPathComponent("state.json"), options: .atomic)
        try? fm.removeItem(at: old)
        if fm.fileExists(atPath: final.path) { try fm.moveItem(at: final, to: old) }
        try fm.moveItem(at: temp, to: final)
        try? fm.removeItem(at: old)
    }

    /// Reads `out/checkpoint/` (or the previous one, if a swap was interrupted).
    public static func read(in out: URL) throws -> Checkpoint {
        let fm = FileManager.default
        var folder = Checkpoint.folder(in: out)
        if !fm.fileExists(atPath: folder.appendingPathComponent("state.json").path) {
            let old = out.appendingPathComponent("checkpoint.old")
            guard fm.fileExists(atPath: old.appendingPathComponent("state.json").path) else {
                throw TrainingError.checkpoint(folder.path, reason: "not found (--resume needs a previous run's --out folder)")
            }
            folder = old
        }
        let stateURL = folder.appendingPathComponent("state.json")
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainingError.checkpoint(stateURL.path, reason: "unreadable state (\(error))")
        }
        guard state.formatVersion == 1 else { throw TrainingError.checkpoint(stateURL.path, reason: "format version \(state.formatVersion) (expected 1)") }
        guard UInt64(state.randomState) != nil else { throw TrainingError.checkpoint(stateURL.path, reason: "bad randomState") }
        let file = try SafeTensorsFile(folder.appendingPathComponent("tensors.safetensors"))
        var parameters = [Float](repeating: 0, count: state.layout.count)
        var adam = Adam(count: state.layout.count)
        adam.t = state.adamSteps
        for t in state.layout.tensors {
            parameters.replaceSubrange(t.range, with: try file.floats("param.\(t.name)", shape: t.shape))
            adam.m.replaceSubrange(t.range, with: try file.floats("adam_m.\(t.name)", shape: t.shape))
            adam.v.replaceSubrange(t.range, with: try file.floats("adam_v.\(t.name)", shape: t.shape))
        }
        return Checkpoint(state: state, parameters: parameters, adam: adam)
    }
}
