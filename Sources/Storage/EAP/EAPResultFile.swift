import Foundation

/// `circuits eap`'s output file: the summed scores (`/eap`, `EdgeScoreSumsFile`), the means,
/// truth and ROC curves (`/eap_eval`, `EAPEvaluation`), the per-pair table (`/eap_pairs`,
/// `EAPPairTable`), and root attributes `model` and `pairs_file` (strings). Each group has its
/// one writer and reader; this only puts them in one file, written atomically. docs/eap.md has
/// the whole layout.
public enum EAPResultFile {
    public static func write(sums: EdgeScoreSums, evaluation: EAPEvaluation, table: EAPPairTable,
                             model: String, pairsFile: String, to url: URL) throws {
        try AtomicFile.write(to: url) { tmp in
            let f = try HDF5File.create(tmp)
            defer { f.close() }
            try f.setAttribute("model", model)
            try f.setAttribute("pairs_file", pairsFile)
            try EdgeScoreSumsFile.write(sums, into: f)
            try evaluation.write(into: f)
            try table.write(into: f)
        }
    }

    /// The three parts of `url`.
    /// - Throws: `SchemaError` when one of the groups is missing.
    public static func read(_ url: URL) throws -> (sums: EdgeScoreSums, evaluation: EAPEvaluation, table: EAPPairTable) {
        let f = try HDF5File.open(url)
        defer { f.close() }
        guard let sums = try EdgeScoreSumsFile.read(f) else { throw SchemaError(file: url.path, object: EdgeScoreSumsFile.group, detail: "missing (not an EAP file)") }
        guard let e = try EAPEvaluation.read(f) else { throw SchemaError(file: url.path, object: EAPEvaluation.group, detail: "missing") }
        guard let t = try EAPPairTable.read(f) else { throw SchemaError(file: url.path, object: EAPPairTable.group, detail: "missing") }
        return (sums, e, t)
    }
}
