import Tracer

extension ReferenceRun {
    /// The `attribute()` arguments the golden run used (`results.<run>.attribute_kwargs`).
    public var attributionOptions: AttributionOptions {
        let kw = results["attribute_kwargs"] as? [String: Any] ?? [:]
        var o = AttributionOptions()
        if let v = kw["max_n_logits"] as? Int { o.maxLogits = v }
        if let v = kw["desired_logit_prob"] as? Double { o.logitProb = v }
        if let v = kw["batch_size"] as? Int { o.batchSize = v }
        o.maxFeatureNodes = kw["max_feature_nodes"] as? Int
        if let v = kw["update_interval"] as? Int { o.updateInterval = v }
        return o
    }
}
