// PromptTable: the `/prompts` columns of shards (no task, no label) and of the aggregate (with
// both) written and read back; a missing column names the file and dataset.
import Foundation
import Storage
import Testing

@Suite struct PromptTableTests {
    static func sample() -> PromptTable {
        var t = PromptTable()
        var done = PromptTable.Row(id: "p0", prompt: "the cat", status: 1)
        done.replacement = 0.8; done.completeness = 0.9; done.nTokens = 3; done.nActive = 12; done.nodes = 7; done.edges = 20
        done.seconds = 1.5; done.task = 0
        t.append(done)
        t.append(.failed(id: "p1", prompt: "a dog", reason: "too long", task: 1))
        return t
    }

    /// Compares every column (NaN scores of failed rows compared as NaN).
    static func same(_ a: PromptTable, _ b: PromptTable) -> Bool {
        func eq(_ x: [Double], _ y: [Double]) -> Bool { x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } }
        return a.id == b.id && a.prompt == b.prompt && a.status == b.status && a.reason == b.reason && a.task == b.task
            && a.label == b.label && eq(a.replacement, b.replacement) && eq(a.completeness, b.completeness)
            && a.nTokens == b.nTokens && a.nActive == b.nActive && a.nodes == b.nodes && a.edges == b.edges && a.seconds == b.seconds
    }

    @Test func shardRoundTripHasNoTaskOrLabel() throws {
        var t = Self.sample()
        let read = try writeThenRead("prompts-shard", write: { try t.write(into: $0, withTask: false) }, read: { f in
            #expect(!f.exists("prompts/task_id") && !f.exists("prompts/label"))
            #expect(try PromptTable.readIDs(f) == ["p0", "p1"])
            return try PromptTable(f)
        })
        t.task = [-1, -1]
        #expect(Self.same(read, t))
    }

    @Test func aggregateRoundTripHasTaskAndLabel() throws {
        var t = Self.sample()
        t.label = ["cat", ""]
        let read = try writeThenRead("prompts-aggregate", write: { try t.write(into: $0, withTask: true) }, read: { f in
            #expect(try f.readStrings(at: "prompts/label") == ["cat", ""], "the documented name")
            return try PromptTable(f)
        })
        #expect(Self.same(read, t))
    }

    @Test(arguments: [PromptTable.Column.id, PromptTable.Column.status, PromptTable.Column.task, PromptTable.Column.seconds])
    func aMissingColumnNamesTheFileAndDataset(missing: String) throws {
        // task_id is optional in the reader; here it is written (as in the aggregate) and the
        // test checks the required ones only.
        let required = missing != PromptTable.Column.task
        try withPartialCopy("prompts-missing", write: { try Self.sample().write(into: $0, withTask: true) },
                            group: ShardSchema.prompts, missing: missing) { f in
            if required {
                expectNotFound("/prompts/\(missing)", in: f) { _ = try PromptTable(f) }
            } else {
                let task = try PromptTable(f).task
                #expect(task == [-1, -1], "no task_id column: every task −1")
            }
        }
    }
}
