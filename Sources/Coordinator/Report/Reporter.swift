import Foundation
import Storage

/// Writes `report.json` and `report.html` of a merged run.
public enum Reporter {
    @discardableResult
    public static func write(_ layout: RunLayout, title: String? = nil) throws -> CircuitReport {
        try MergeError.requireAggregate(layout.aggregate)
        var report = CircuitReport(try Aggregate(url: layout.aggregate))
        let global = layout.root.appendingPathComponent("global_weights.h5")
        if FileManager.default.fileExists(atPath: global.path) { report.global_weights = try GlobalWeightsSummary(url: global) }
        if try FeatureDashboardsFile.exists(in: layout.aggregate) { try report.attachDashboards(RunDashboards(aggregate: layout.aggregate)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(try encoder.encode(report), to: layout.reportJSON)
        let name = title ?? "Circuit report: \(layout.root.lastPathComponent)"
        try AtomicFile.write(Data(ReportHTML.render(report, title: name).utf8), to: layout.reportHTML)
        return report
    }
}
