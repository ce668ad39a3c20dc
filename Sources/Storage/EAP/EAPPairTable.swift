import Foundation

/// One row per non-blank line of a pair file: scored, with the metric on both prompts, or
/// skipped, with the reason. Written as the `/eap_pairs` group (`EAPPairTable.write` / `read`,
/// the group's one writer and reader).
///
/// Layout of `/eap_pairs`: datasets `line` (i64 `[nRows]`, 1-based line in the pair file), `id`
/// (strings), `scored` (bool), `reason` (strings, empty when scored), `clean_metric` and
/// `corrupt_metric` (f64, NaN when skipped).
public struct EAPPairTable: Sendable, Equatable {
    public struct Row: Sendable, Equatable {
        public var line: Int
        public var id: String
        /// Why the pair was skipped; nil when it was scored.
        public var reason: String?
        /// L(clean), L(corrupt); NaN when skipped.
        public var cleanMetric: Double
        public var corruptMetric: Double

        public init(line: Int, id: String, reason: String?, cleanMetric: Double = .nan, corruptMetric: Double = .nan) {
            self.line = line
            self.id = id
            self.reason = reason
            self.cleanMetric = cleanMetric
            self.corruptMetric = corruptMetric
        }
    }

    public var rows: [Row]

    public init(rows: [Row] = []) { self.rows = rows }

    public var scored: Int { rows.lazy.filter { $0.reason == nil }.count }
    public var skipped: Int { rows.count - scored }

    public static let group = "/eap_pairs"

    public func write(into f: HDF5File) throws {
        let g = Self.group
        try f.createGroup(g)
        try f.write(rows.map { Int64($0.line) }, shape: [rows.count], at: "\(g)/line")
        try f.writeStrings(rows.map(\.id), at: "\(g)/id")
        try f.writeBools(rows.map { $0.reason == nil }, shape: [rows.count], at: "\(g)/scored")
        try f.writeStrings(rows.map { $0.reason ?? "" }, at: "\(g)/reason")
        try f.write(rows.map(\.cleanMetric), shape: [rows.count], at: "\(g)/clean_metric")
        try f.write(rows.map(\.corruptMetric), shape: [rows.count], at: "\(g)/corrupt_metric")
    }

    /// The table of `f`, or nil when it has no `/eap_pairs` group.
    /// - Throws: `HDF5Error` for a missing dataset; `SchemaError` when the columns differ in length.
    public static func read(_ f: HDF5File) throws -> EAPPairTable? {
        let g = group
        guard f.exists(g) else { return nil }
        let line = try f.read(Int64.self, at: "\(g)/line").values
        let id = try f.readStrings(at: "\(g)/id"), scored = try f.readBools(at: "\(g)/scored").values
        let reason = try f.readStrings(at: "\(g)/reason")
        let clean = try f.read(Double.self, at: "\(g)/clean_metric").values
        let corrupt = try f.read(Double.self, at: "\(g)/corrupt_metric").values
        for (name, n) in [("id", id.count), ("scored", scored.count), ("reason", reason.count), ("clean_metric", clean.count), ("corrupt_metric", corrupt.count)] where n != line.count {
            throw SchemaError(file: f.path, object: "\(g)/\(name)", detail: "\(n) rows, expected \(line.count) (as \(g)/line)")
        }
        return EAPPairTable(rows: line.indices.map {
            Row(line: Int(line[$0]), id: id[$0], reason: scored[$0] ? nil : reason[$0], cleanMetric: clean[$0], corruptMetric: corrupt[$0])
        })
    }
}
