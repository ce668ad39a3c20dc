import Storage

/// The unpruned graph of a shard (`FullGraph`, job option `pruning.keep_full_graphs`) to and
/// from the engine's `AttributionGraph`. CSR row r is the adjacency's storage slot r (feature
/// rows, then logit rows: `TargetRows.storedNodes`), so both directions copy row by row.
extension FullGraph {
    /// `graph`'s feature nodes and every non-zero entry of its adjacency.
    ///
    /// Complexity: O((F + nLogits) · N), one pass over the stored rows.
    public init(_ graph: AttributionGraph) {
        self.init()
        let layout = graph.layout, n = layout.count
        for s in 0..<layout.nFeatures {
            let a = graph.feature(selected: s)
            featureLayer.append(Int32(a.layer)); featurePos.append(Int32(a.pos)); featureIndex.append(Int64(a.index))
            featureActivation.append(graph.activation(selected: s))
        }
        nLayers = graph.nLayers; nPos = layout.nPos; nLogits = layout.nLogits
        rowOffset = [0]
        rowOffset.reserveCapacity(layout.nFeatures + layout.nLogits + 1)
        for target in TargetRows<Float>.storedNodes(layout) {
            graph.adjacency.withRow(target) { row in
                for source in 0..<n where row[source] != 0 {
                    edgeSource.append(Int32(source)); edgeWeight.append(row[source])
                }
            }
            rowOffset.append(Int64(edgeSource.count))
        }
    }

    /// Entries of the adjacency rebuilt from this graph (`(F + nLogits) · N` floats).
    public var storedEntries: Int { (nFeatures + nLogits) * nNodes }
}

extension AttributionGraph {
    /// Rebuilds the traced graph from a shard's full graph and the pruned tables of the same
    /// prompt (`columns`: its tokens and logit targets, which pruning never drops). The feature
    /// nodes become both the active and the selected features (the activations of features
    /// the graph did not select are not stored); pruning reads only the adjacency, the layout
    /// and the logit probabilities, so re-pruning this graph equals re-pruning the traced one.
    ///
    /// - Throws: `TracerError.invalidArgument` naming `what` (the shard and group) when the
    ///   tokens or logits of `columns` do not match the full graph's sizes.
    public init(full: FullGraph, columns: GraphColumns, what: String) throws {
        guard columns.inputTokens.count == full.nPos, columns.tokenStrings.count == full.nPos else {
            throw TracerError.invalidArgument("\(what): the full graph has \(full.nPos) positions, the pruned graph \(columns.inputTokens.count) tokens")
        }
        guard columns.logitTokenIDs.count == full.nLogits else {
            throw TracerError.invalidArgument("\(what): the full graph has \(full.nLogits) logits, the pruned graph \(columns.logitTokenIDs.count)")
        }
        let layout = NodeLayout(nFeatures: full.nFeatures, nLayers: full.nLayers, nPos: full.nPos, nLogits: full.nLogits)
        let n = layout.count
        var adjacency = Adjacency(layout: layout)
        adjacency.storage.withUnsafeMutableBufferPointer { a in
            for slot in 0..<(full.rowOffset.count - 1) {
                for e in Int(full.rowOffset[slot])..<Int(full.rowOffset[slot + 1]) {
                    a[slot * n + Int(full.edgeSource[e])] = full.edgeWeight[e]    // A[target(slot), source]
                }
            }
        }
        let features = (0..<full.nFeatures).map {
            ActiveFeature(layer: Int(full.featureLayer[$0]), pos: Int(full.featurePos[$0]), index: Int(full.featureIndex[$0]))
        }
        self.init(inputTokens: columns.inputTokens.map(Int.init), tokenStrings: columns.tokenStrings,
                  activeFeatures: features, activationValues: full.featureActivation, selectedFeatures: Array(features.indices),
                  logitTargets: columns.logitTokenIDs.indices.map {
                      LogitTarget(tokenId: Int(columns.logitTokenIDs[$0]), token: columns.logitTokens[$0], probability: columns.logitProbabilities[$0])
                  },
                  nLayers: full.nLayers, adjacency: adjacency)
    }
}
