// ShardMeta and AggregateMeta: attributes written and read back under their schema names; a
// missing attribute is reported with the file and `/group@name`.
import Foundation
import Storage
import Testing

@Suite struct ShardMetaTests {
    @Test func roundTrip() throws {
        let meta = ShardMeta(jobHash: "abc123", taskID: 7, workerID: "node-1.w0", modelChecksum: "m", transcoderChecksum: "t")
        let read = try writeThenRead("shard-meta", write: { try meta.write(into: $0) }, read: { f in
            #expect(try f.stringAttribute("job_hash", at: "meta") == "abc123", "the documented name (docs/shard-schema.md)")
            #expect(try f.attribute("task_id", as: Int64.self, at: "meta") == 7)
            return try ShardMeta(f)
        })
        #expect(read == meta)
        #expect(read.formatVersion == ShardSchema.formatVersion && read.circuitsVersion == CircuitsVersion.string)
    }

    @Test func aMissingAttributeNamesTheFileAndAttribute() throws {
        try writeThenRead("shard-meta-missing", write: { f in
            try f.createGroup(ShardSchema.meta)
            try f.setAttribute(ShardMeta.Attribute.jobHash, "abc", at: ShardSchema.meta)
        }, read: { f in
            expectNotFound("/meta@task_id", in: f) { _ = try ShardMeta(f) }
        })
    }
}

@Suite struct AggregateMetaTests {
    @Test func roundTrip() throws {
        let meta = AggregateMeta(jobHash: "h", promptsTotal: 10, promptsDone: 7, promptsFailed: 3, shards: 4)
        let read = try writeThenRead("aggregate-meta", write: { try meta.write(into: $0) }, read: { f in
            #expect(try f.attribute("prompts_total", as: Int64.self) == 10, "the documented name (docs/shard-schema.md)")
            return try AggregateMeta(f)
        })
        #expect(read == meta)
    }

    @Test func aMissingAttributeNamesTheFileAndAttribute() throws {
        try writeThenRead("aggregate-meta-missing", write: { try $0.setAttribute(AggregateMeta.Attribute.jobHash, "h") }, read: { f in
            expectNotFound("/@prompts_total", in: f) { _ = try AggregateMeta(f) }
        })
    }
}
