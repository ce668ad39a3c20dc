import Foundation

/// The ground-truth edge set that EAP and EAP-IG are scored against: from exact activation
/// patching (`circuits eap --exact`) or from a file (`--truth FILE`).
public struct EdgeTruth: Sendable, Equatable {
    /// `[nEdges]`, in the edge order of the scores: whether each edge is in the truth.
    public var mask: [Bool]
    /// `exact` or the path of the truth file.
    public var source: String
    /// With `exact`: the |mean ΔL| an edge needs, `fraction × mean |L(clean) − L(corrupt)|`.
    public var threshold: Double?

    /// The share of the mean total effect an edge's exact effect must reach to be in the truth
    /// (the issue's 1 %). Read by the CLI's help and the docs.
    public static let exactFraction = 0.01

    public init(mask: [Bool], source: String, threshold: Double?) {
        self.mask = mask
        self.source = source
        self.threshold = threshold
    }

    public var count: Int { mask.lazy.filter { $0 }.count }

    /// Edges whose exact patching effect, mean over pairs, has |·| ≥ `exactFraction` × the mean
    /// over pairs of |L(clean) − L(corrupt)|.
    ///
    /// - Parameters:
    ///   - meanExact: `[nEdges]`, the mean over pairs of L(clean with the edge patched) − L(clean).
    ///   - meanAbsoluteTotalEffect: mean over the same pairs of |L(clean) − L(corrupt)|.
    public static func exact(meanExact: [Double], meanAbsoluteTotalEffect: Double, fraction: Double = exactFraction) -> EdgeTruth {
        let t = fraction * meanAbsoluteTotalEffect
        return EdgeTruth(mask: meanExact.map { abs($0) >= t }, source: "exact", threshold: t)
    }

    /// A truth file: one edge name per line (`a0.h1->m2`, as in `/eap/edges`); blank lines and
    /// lines starting with `#` are ignored, surrounding spaces trimmed.
    ///
    /// - Throws: `EdgeTruthError` naming the file and line of a name that is not an edge of the
    ///   model, or a name given twice; when the file cannot be read.
    public static func read(_ url: URL, edges: [String]) throws -> EdgeTruth {
        let path = url.path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EdgeTruthError(file: path, line: nil, reason: FileManager.default.fileExists(atPath: path)
                                 ? "cannot be read (a folder, or no permission)" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw EdgeTruthError(file: path, line: nil, reason: "is not UTF-8 text") }
        let index = Dictionary(edges.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var mask = [Bool](repeating: false, count: edges.count)
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces)
            if name.isEmpty || name.hasPrefix("#") { continue }
            guard let i = index[name] else {
                throw EdgeTruthError(file: path, line: n + 1, reason: "'\(name)' is not an edge of this model (edges are named like \(edges.first ?? "input->logits"); see /eap/edges of an output file)")
            }
            guard !mask[i] else { throw EdgeTruthError(file: path, line: n + 1, reason: "'\(name)' is listed twice") }
            mask[i] = true
        }
        return EdgeTruth(mask: mask, source: path, threshold: nil)
    }
}

/// A truth file that cannot be used: which file, which line (1-based) and why.
public struct EdgeTruthError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { "truth file \(file)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}
