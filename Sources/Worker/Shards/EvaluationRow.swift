import Storage
import Tracer

extension EvaluationTable.Row {
    /// The row of one graph's evaluation: nil metrics become NaN.
    public init(_ e: GraphEvaluation) {
        self.init(nLayers: e.fidelityCosine.count)
        pathLengthShares = e.pathLengths.shares
        pathLengthMean = e.pathLengths.mean
        fidelityCosine = e.fidelityCosine.map { $0 ?? .nan }
        fidelityNMSE = e.fidelityNMSE.map { $0 ?? .nan }
        fidelityFeatures = Int64(e.fidelityFeatures)
        causalRankCorrelation = e.causalRankCorrelation ?? .nan
        causalFeatures = Int64(e.causalFeatures)
    }
}
