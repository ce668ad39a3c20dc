// EAP jobs (`pairs:` + `eap:`): reading, validation and the hash of other jobs.
import Foundation
import Shared
import Storage
import Testing
import TestSupport

@Suite struct EAPJobSpecTests {
    func load(_ yaml: String) throws -> (ScratchFolder, Result<JobSpec, any Error>) {
        let folder = try ScratchFolder("eapjob")
        let url = folder.file("job.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return (folder, Result { try JobSpec.load(url) })
    }

    @Test func readsPairsAndTheEAPSection() throws {
        let (folder, result) = try load("""
        model: m
        pairs: ../p.jsonl
        output: out
        prompts_per_task: 3
        eap: {metric: prob, ig_steps: 8, exact: true}
        """)
        defer { folder.remove() }
        let job = try result.get()
        #expect(job.eap == JobSpec.EAP(metric: "prob", igSteps: 8, exact: true))
        #expect(job.corpus == folder.url.deletingLastPathComponent().appendingPathComponent("p.jsonl").standardizedFileURL.path)
        #expect(job.transcoders == "" && job.promptsPerTask == 3 && job.corpusField == "pairs")
        #expect(!job.statistics.dashboards, "no transcoders, no dashboards")
        try job.validate(source: "test")
        // The job survives job.json and the wire (JSON) with its hash.
        let back = try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(job))
        #expect(back == job && back.hash == job.hash)
        var other = job
        other.eap?.igSteps = 4
        #expect(other.hash != job.hash)
    }

    @Test func theEAPSectionIsOptionalWithDefaults() throws {
        let (folder, result) = try load("model: m\npairs: p.jsonl\noutput: out\n")
        defer { folder.remove() }
        #expect(try result.get().eap == JobSpec.EAP(metric: "logit-diff", igSteps: 0, exact: false))
    }

    @Test func otherJobsEncodeWithoutEAPSoTheirHashStays() throws {
        let job = JobSpec(model: "/m", transcoders: "/t", corpus: "/c", output: "/o")
        let json = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        #expect(!json.contains("eap"))
    }

    @Test(arguments: [
        ("model: m\npairs: p\ncorpus: c\noutput: o\n", "corpus", "not both"),
        ("model: m\npairs: p\ntranscoders: t\noutput: o\n", "transcoders", "not used by an EAP job"),
        ("model: m\npairs: p\noutput: o\nattribution: {max_logits: 3}\n", "attribution", "not used by an EAP job"),
        ("model: m\npairs: p\noutput: o\nstatistics: {dashboards: false}\n", "statistics", "not used by an EAP job"),
        ("model: m\noutput: o\neap: {metric: prob}\n", "pairs", "missing"),
        ("model: m\npairs: p\noutput: o\neap: {metric: loss}\n", "eap.metric", "expected one of logit-diff, prob, kl, found loss"),
        ("model: m\npairs: p\noutput: o\neap: {metric: 3}\n", "eap.metric", "expected one of"),
        ("model: m\npairs: p\noutput: o\neap: {ig_steps: -1}\n", "eap.ig_steps", "outside 0...1000"),
        ("model: m\npairs: p\noutput: o\neap: {exact: 2}\n", "eap.exact", "expected true or false"),
        ("model: m\npairs: p\noutput: o\neap: {steps: 2}\n", "eap.steps", "unknown field"),
        ("model: m\npairs: p\noutput: o\nfoo: 1\n", "foo", "unknown field"),
    ])
    func badEAPJobsNameTheField(yaml: String, field: String, reason: String) throws {
        let (folder, result) = try load(yaml)
        defer { folder.remove() }
        guard case let .failure(error) = result, let e = error as? JobSpecError else {
            Issue.record("accepted: \(yaml)"); return
        }
        #expect(e.field == field, "\(e)")
        #expect(e.reason.contains(reason), "\(e)")
    }

    @Test func aPeersEAPJobIsValidatedToo() throws {
        var job = JobSpec(model: "/m", transcoders: "", corpus: "/p", output: "/o")
        job.eap = JobSpec.EAP(metric: "logit-diff")
        try job.validate(source: "peer")   // no transcoders needed
        job.eap?.metric = "nope"
        #expect(throws: JobSpecError.self) { try job.validate(source: "peer") }
        job.eap = JobSpec.EAP(igSteps: 5000)
        #expect((try? job.validate(source: "peer")) == nil)
        job.eap = nil
        #expect((try? job.validate(source: "peer")) == nil, "a trace job without transcoders is refused")
    }

    @Test func checkInputsNamesThePairsField() throws {
        let (folder, result) = try load("model: \(folder0)\npairs: missing.jsonl\noutput: out\n")
        defer { folder.remove() }
        let job = try result.get()
        #expect(throws: JobSpecError(file: "f", field: "pairs", reason: "no such file: \(job.corpus)")) { try job.checkInputs(file: "f") }
    }

    /// An existing folder to stand for the model.
    var folder0: String { FileManager.default.temporaryDirectory.path }
}

@Suite struct PairLinesTests {
    @Test func linesBecomeItemsWithIDsAndInvalidLinesTheirReasons() {
        let text = """
        {"id": "a", "clean": "x", "corrupt": "y", "answer": "u", "wrong": "v"}

        {"clean": "no id"}
        not json
        {"id": "a", "clean": "again"}
        {"id": 7}
        {"id": ""}
        {"id": "n", "clean": "nul\\u0000"}
        """
        let c = Corpus.parsePairLines(Data(text.utf8))
        #expect(c.prompts.map(\.id) == ["a", "line-3", "7", "n"])
        #expect(c.prompts[0].text == #"{"id": "a", "clean": "x", "corrupt": "y", "answer": "u", "wrong": "v"}"#, "the whole line travels to the worker")
        #expect(c.invalid.map(\.line) == [4, 5, 7])
        #expect(c.invalid.map(\.reason) == ["not a JSON object", "duplicate id \"a\" (first seen earlier)", "\"id\" must be a non-empty string or a number"])
    }

    @Test func anEmptyFileIsAnError() throws {
        let folder = try ScratchFolder("pairlines")
        defer { folder.remove() }
        let url = folder.file("p.jsonl")
        try "\n\n".write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: CorpusError.self) { try Corpus.loadPairLines(url) }
    }
}
