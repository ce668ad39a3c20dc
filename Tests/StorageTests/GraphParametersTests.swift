import Storage
import Testing

/// The graph parameters' defaults (circuit-tracer 0.5.0's) and ranges, defined once for the CLI,
/// job specs and the engine.
@Suite struct GraphParametersTests {
    @Test func defaultsAreCircuitTracers() throws {
        let a = AttributionParameters(), p = PruningParameters()
        #expect(a.maxLogits == 10 && a.logitProb == 0.95 && a.maxFeatureNodes == nil && a.batchSize == 256 && a.updateInterval == 4)
        #expect(p.nodeThreshold == 0.8 && p.edgeThreshold == 0.98)
        try a.validate()
        try p.validate()
    }

    @Test(arguments: [(0.0, false), (1.0, true), (1e-9, true), (.nan, false), (1.0000001, false)])
    func logitProbabilityIsInHalfOpenUnitInterval(value: Double, valid: Bool) {
        var a = AttributionParameters()
        a.logitProb = value
        let accepted = (try? a.validate()) != nil
        #expect(accepted == valid, "logitProb \(value)")
    }

    @Test func integerRangesAndMessages() {
        var a = AttributionParameters()
        a.batchSize = 0
        #expect(throws: GraphParameterError(parameter: .batchSize, value: "0")) { try a.validate() }
        a.batchSize = 1
        a.maxFeatureNodes = 0   // a graph of error and token nodes only: allowed
        #expect((try? a.validate()) != nil)
        a.updateInterval = 100_001
        #expect { try a.validate() } throws: { "\($0)" == "updateInterval must be an integer from 1 to 100000 (got 100001)" }
        var p = PruningParameters()
        p.edgeThreshold = -0.1
        #expect(throws: GraphParameterError(parameter: .edgeThreshold, value: "-0.1")) { try p.validate() }
        p.edgeThreshold = .nan
        #expect(throws: GraphParameterError.self) { try p.validate() }
    }

    @Test func namesWhereUsersMeetThem() {
        #expect(GraphParameter.maxFeatureNodes.flag == "--max-feature-nodes")
        #expect(GraphParameter.logitProb.flag == "--logit-prob")
        #expect(GraphParameter.logitProb.jobField == "attribution.logit_prob")
        #expect(GraphParameter.edgeThreshold.jobField == "pruning.edge_threshold")
        #expect(Set(GraphParameter.allCases.map(\.flag)).count == GraphParameter.allCases.count)
    }
}
