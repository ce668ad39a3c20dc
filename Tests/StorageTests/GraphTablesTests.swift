// GraphTables: the aggregate's concatenated graph tables with CSR offsets, written and read back;
// per-prompt slices; missing datasets and inconsistent offsets are reported with file and object.
import Foundation
import Storage
import Testing

@Suite struct GraphTablesTests {
    /// Three prompts: a graph, a failed prompt (empty ranges), another graph.
    static func sample() -> GraphTables {
        var t = GraphTables()
        t.append(sampleColumns(offset: 0)); t.endPrompt()
        t.endPrompt()
        t.append(sampleColumns(offset: 1)); t.endPrompt()
        return t
    }

    @Test func concatenatesWithOffsets() {
        let t = Self.sample()
        #expect(t.promptCount == 3)
        #expect(t.nodeOffset == [0, 3, 3, 6] && t.edgeOffset == [0, 2, 2, 4] && t.tokenOffset == [0, 2, 2, 4] && t.logitOffset == [0, 1, 1, 2])
        #expect(t.prompt(0) == sampleColumns(offset: 0))
        #expect(t.prompt(1) == GraphColumns())
        #expect(t.prompt(2) == sampleColumns(offset: 1), "edge endpoints stay local to their prompt")
    }

    @Test func roundTrip() throws {
        let t = Self.sample()
        let read = try writeThenRead("graph-tables", write: { try t.write(into: $0) }, read: { f in
            #expect(try f.read(Int64.self, at: "graphs/node_offset").values == [0, 3, 3, 6], "the documented name")
            return try GraphTables(f)
        })
        #expect(read == t)
    }

    @Test(arguments: [GraphTableSchema.Offset.node, GraphTableSchema.Offset.edge, GraphTableSchema.Offset.token,
                      GraphTableSchema.Offset.logit, GraphTableSchema.Node.feature, GraphTableSchema.Logit.tokens])
    func aMissingDatasetNamesTheFileAndDataset(missing: String) throws {
        try withPartialCopy("graph-tables-missing", write: { try Self.sample().write(into: $0) }, group: ShardSchema.graphs,
                            missing: missing) { f in
            expectNotFound("/graphs/\(missing)", in: f) { _ = try GraphTables(f) }
        }
    }

    @Test func offsetsThatDoNotCoverTheColumnsAreASchemaError() throws {
        var t = Self.sample()
        t.edgeOffset[3] = 3
        try writeThenRead("graph-tables-offsets", write: { try t.write(into: $0) }, read: { f in
            expectSchemaError("graphs/edge_offset", in: f) { _ = try GraphTables(f) }
        })
    }
}
