import Foundation

/// What `circuits eap` derives from the summed scores (`EdgeScoreSums`): each method's mean
/// score per edge, its time, and, given a ground truth, its ROC curve against it. Written as the
/// `/eap_eval` group (`write(into:)` / `read(_:)`, the group's one writer and reader).
///
/// Layout of `/eap_eval`:
/// - attributes `truth_source` (string: `exact`, a truth file's path, or empty for none),
///   `truth_threshold` (f64, NaN unless `exact`), `truth_edges` (i64);
/// - dataset `truth` (bool `[nEdges]`, only with a truth);
/// - per method run (`eap`, `eap_ig`, `exact`): dataset `<method>_mean` (f64 `[nEdges]`),
///   attribute `<method>_s` (f64, seconds over every pair); and when it has a ROC curve (every
///   method but the truth's own source): datasets `<method>_fpr`, `<method>_tpr` (f64
///   `[nPoints]`), attributes `auc_<method>`, `pessimistic_auc_<method>` (f64).
public struct EAPEvaluation: Sendable, Equatable {
    public var means: [EdgeScoreSums.Method: [Double]]
    public var seconds: [EdgeScoreSums.Method: Double]
    public var truth: EdgeTruth?
    public var curves: [EdgeScoreSums.Method: ROCCurve]

    public init(means: [EdgeScoreSums.Method: [Double]], seconds: [EdgeScoreSums.Method: Double], truth: EdgeTruth?, curves: [EdgeScoreSums.Method: ROCCurve]) {
        self.means = means
        self.seconds = seconds
        self.truth = truth
        self.curves = curves
    }

    /// The means of `sums`, the truth (`truthFile` when given, else exact patching's when it was
    /// run, else none) and the ROC curve of every other method against it.
    ///
    /// - Throws: `EdgeTruthError` for an unusable truth file.
    public init(sums: EdgeScoreSums, seconds: [EdgeScoreSums.Method: Double], truthFile: URL?) throws {
        var means: [EdgeScoreSums.Method: [Double]] = [:]
        for m in sums.scores.keys { means[m] = sums.mean(m) }
        var truth: EdgeTruth?
        if let truthFile {
            truth = try EdgeTruth.read(truthFile, edges: sums.edges)
        } else if let exact = means[.exact] {
            truth = EdgeTruth.exact(meanExact: exact, meanAbsoluteTotalEffect: sums.absoluteTotalEffect / Double(sums.pairs))
        }
        var curves: [EdgeScoreSums.Method: ROCCurve] = [:]
        if let truth {
            for (m, s) in means where !(m == .exact && truth.source == "exact") {
                curves[m] = ROCCurve(scores: s, truth: truth.mask)
            }
        }
        self.init(means: means, seconds: seconds, truth: truth, curves: curves)
    }

    public static let group = "/eap_eval"

    public func write(into f: HDF5File) throws {
        let g = Self.group
        try f.createGroup(g)
        try f.setAttribute("truth_source", truth?.source ?? "", at: g)
        try f.setAttribute("truth_threshold", truth?.threshold ?? .nan, at: g)
        try f.setAttribute("truth_edges", Int64(truth?.count ?? 0), at: g)
        if let truth { try f.writeBools(truth.mask, shape: [truth.mask.count], at: "\(g)/truth", compression: 4) }
        for m in EdgeScoreSums.Method.allCases {
            let name = m.rawValue
            if let v = means[m] { try f.write(v, shape: [v.count], at: "\(g)/\(name)_mean", compression: 4) }
            if let s = seconds[m] { try f.setAttribute("\(name)_s", s, at: g) }
            if let c = curves[m] {
                try f.write(c.fpr, shape: [c.fpr.count], at: "\(g)/\(name)_fpr")
                try f.write(c.tpr, shape: [c.tpr.count], at: "\(g)/\(name)_tpr")
                try f.setAttribute("auc_\(name)", c.auc, at: g)
                try f.setAttribute("pessimistic_auc_\(name)", c.pessimisticAUC, at: g)
            }
        }
    }

    /// The evaluation of `f`, or nil when it has no `/eap_eval` group. ROC curves are read back
    /// with their AUCs as stored; `positives`/`negatives` come from the truth mask.
    public static func read(_ f: HDF5File) throws -> EAPEvaluation? {
        let g = group
        guard f.exists(g) else { return nil }
        var truth: EdgeTruth?
        if f.exists("\(g)/truth") {
            let threshold = try f.attribute("truth_threshold", as: Double.self, at: g)
            truth = EdgeTruth(mask: try f.readBools(at: "\(g)/truth").values, source: try f.stringAttribute("truth_source", at: g),
                              threshold: threshold.isNaN ? nil : threshold)
        }
        let names = Set(try f.attributeNames(at: g))
        var e = EAPEvaluation(means: [:], seconds: [:], truth: truth, curves: [:])
        for m in EdgeScoreSums.Method.allCases {
            let name = m.rawValue
            if f.exists("\(g)/\(name)_mean") { e.means[m] = try f.read(Double.self, at: "\(g)/\(name)_mean").values }
            if names.contains("\(name)_s") { e.seconds[m] = try f.attribute("\(name)_s", as: Double.self, at: g) }
            if f.exists("\(g)/\(name)_fpr"), let truth {
                let fpr = try f.read(Double.self, at: "\(g)/\(name)_fpr").values, tpr = try f.read(Double.self, at: "\(g)/\(name)_tpr").values
                guard fpr.count == tpr.count else {
                    throw SchemaError(file: f.path, object: "\(g)/\(name)_tpr", detail: "\(tpr.count) points, expected \(fpr.count) (as \(name)_fpr)")
                }
                let p = truth.count
                e.curves[m] = ROCCurve(fpr: fpr, tpr: tpr, positives: p, negatives: truth.mask.count - p,
                                       auc: try f.attribute("auc_\(name)", as: Double.self, at: g),
                                       pessimisticAUC: try f.attribute("pessimistic_auc_\(name)", as: Double.self, at: g))
            }
        }
        return e
    }
}
