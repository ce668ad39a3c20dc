import Foundation

/// Reads and writes `GlobalPartners` as the `/all` group of `global_weights.h5` (see
/// docs/global-weights.md). Per direction and ranking, `/all/<upstream|downstream>/<twera|era|interference>/`:
///
/// | dataset | type | meaning |
/// | --- | --- | --- |
/// | `partner` | i32 [features, k, 2] | (layer, feature) of the partner, best first; (−1, −1) pads |
/// | `n_partners` | i32 [features] | entries in the row |
/// | `virtual_weight`, `era`, `twera` | f32 [features, k] | the pair's V, ERA, TWERA (0 pads) |
/// | `coactivation_count` | i64 [features, k] | positions where both are active |
///
/// Row `layer · d_transcoder + feature`. Attributes of `/all`: `n_layers`, `d_transcoder`,
/// `top_k`, `tokens_seen`.
public enum GlobalPartnersFile {
    public static let group = "all"
    public static let partner = "partner"
    public static let nPartners = "n_partners"
    public static let virtualWeight = "virtual_weight"
    public static let era = "era"
    public static let twera = "twera"
    public static let coactivationCount = "coactivation_count"
    static let directions = ["upstream", "downstream"]

    static func lists(_ p: GlobalPartners) -> [(path: String, table: PartnerTable)] {
        PartnerRanking.allCases.flatMap { r in
            [("\(group)/upstream/\(r.rawValue)", p.upstream[r]!), ("\(group)/downstream/\(r.rawValue)", p.downstream[r]!)]
        }
    }

    /// Writes `/all` into `global_weights.h5` at `url`, keeping its other datasets (`--top`'s
    /// tables); atomically (`GlobalWeightsFile.update`).
    public static func write(_ p: GlobalPartners, to url: URL, transcoderFolder: String) throws {
        try GlobalWeightsFile.update(url, removing: { f in f.exists(group) ? [group] : [] }) { f in
            try write(p, into: f)
            try f.setAttribute(GlobalWeightsSchema.Attribute.transcoders, transcoderFolder)
        }
    }

    public static func write(_ p: GlobalPartners, into f: HDF5File) throws {
        let n = p.features, k = p.k
        try f.createGroup(group)
        try f.setAttribute("n_layers", Int64(p.nLayers), at: group)
        try f.setAttribute("d_transcoder", Int64(p.dTranscoder), at: group)
        try f.setAttribute("top_k", Int64(k), at: group)
        try f.setAttribute("tokens_seen", p.tokensSeen, at: group)
        for (path, table) in lists(p) {
            var who = [Int32](repeating: -1, count: n * k * 2), sizes = [Int32](repeating: 0, count: n)
            var v = [Float](repeating: 0, count: n * k), era = v, twera = v, count = [Int64](repeating: 0, count: n * k)
            for row in 0..<n {
                let entries = table.sorted(row: row)
                sizes[row] = Int32(entries.count)
                for (i, e) in entries.enumerated() {
                    let j = row * k + i
                    who[2 * j] = Int32(Int(e.partner) / p.dTranscoder); who[2 * j + 1] = Int32(Int(e.partner) % p.dTranscoder)
                    v[j] = e.virtualWeight; era[j] = e.era; twera[j] = e.twera; count[j] = Int64(e.count)
                }
            }
            try f.createGroup(path)
            try f.write(who, shape: [n, k, 2], at: "\(path)/\(partner)", compression: 4)
            try f.write(sizes, shape: [n], at: "\(path)/\(nPartners)", compression: 4)
            try f.write(v, shape: [n, k], at: "\(path)/\(virtualWeight)", compression: 4)
            try f.write(era, shape: [n, k], at: "\(path)/\(Self.era)", compression: 4)
            try f.write(twera, shape: [n, k], at: "\(path)/\(Self.twera)", compression: 4)
            try f.write(count, shape: [n, k], at: "\(path)/\(coactivationCount)", compression: 4)
        }
    }

    /// The `/all` group of `f`, or nil when it has none; shapes checked (`SchemaError`).
    public static func read(_ f: HDF5File) throws -> GlobalPartners? {
        guard f.exists(group) else { return nil }
        let nLayers = Int(try f.attribute("n_layers", as: Int64.self, at: group))
        let dT = Int(try f.attribute("d_transcoder", as: Int64.self, at: group))
        let k = Int(try f.attribute("top_k", as: Int64.self, at: group))
        guard nLayers > 0, dT > 0, k > 0, nLayers * dT <= Int(Int32.max) else {
            throw SchemaError(file: f.path, object: group, detail: "n_layers \(nLayers), d_transcoder \(dT), top_k \(k)")
        }
        let p = GlobalPartners(nLayers: nLayers, dTranscoder: dT, k: k, tokensSeen: try f.attribute("tokens_seen", as: Int64.self, at: group))
        let n = p.features
        for (path, table) in lists(p) {
            let who = try f.read(Int32.self, at: "\(path)/\(partner)"), sizes = try f.read(Int32.self, at: "\(path)/\(nPartners)").values
            let v = try f.read(Float.self, at: "\(path)/\(virtualWeight)").values, era = try f.read(Float.self, at: "\(path)/\(Self.era)").values
            let twera = try f.read(Float.self, at: "\(path)/\(Self.twera)").values
            let count = try f.read(Int64.self, at: "\(path)/\(coactivationCount)").values
            guard who.shape == [n, k, 2], sizes.count == n, v.count == n * k, era.count == n * k, twera.count == n * k, count.count == n * k else {
                throw SchemaError(file: f.path, object: path, detail: "datasets are not [\(n), \(k)] (partner \(who.shape))")
            }
            for row in 0..<n {
                guard (0...k).contains(Int(sizes[row])) else { throw SchemaError(file: f.path, object: "\(path)/\(nPartners)", detail: "row \(row): \(sizes[row]) > \(k)") }
                for i in 0..<Int(sizes[row]) {
                    let j = row * k + i, l = Int(who.values[2 * j]), feat = Int(who.values[2 * j + 1])
                    guard (0..<nLayers).contains(l), (0..<dT).contains(feat) else {
                        throw SchemaError(file: f.path, object: "\(path)/\(partner)", detail: "row \(row): (\(l), \(feat)) outside the transcoders")
                    }
                    let score: Float = switch PartnerRanking(rawValue: String(path.split(separator: "/").last!))! {
                    case .twera: abs(twera[j])
                    case .era: abs(era[j])
                    case .interference: abs(v[j])
                    }
                    table.offer(Partner(partner: Int32(l * dT + feat), virtualWeight: v[j], era: era[j], twera: twera[j],
                                        count: Int32(clamping: count[j]), score: score), row: row)
                }
            }
        }
        return p
    }
}
