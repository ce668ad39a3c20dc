// Job specs, corpora, the journal and the wire format of messages.
import Foundation
import Storage
import Shared
import Testing
import TestSupport

@Suite struct JobSpecTests {
    func write(_ yaml: String) throws -> (ScratchFolder, URL) {
        let folder = try ScratchFolder("jobspec")
        let url = folder.file("job.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return (folder, url)
    }

    @Test func readsEveryFieldAndResolvesRelativePaths() throws {
        let (folder, url) = try write("""
        model: m
        transcoders: /abs/t
        corpus: ../c.jsonl
        output: out
        prompts_per_task: 3
        workers: 4
        lease_seconds: 30
        heartbeat_seconds: 1.5
        attribution: {max_logits: 7, logit_prob: 0.9, max_feature_nodes: 64, batch_size: 32, update_interval: 2}
        pruning: {node_threshold: 0.7, edge_threshold: 0.9}
        """)
        defer { folder.remove() }
        let job = try JobSpec.load(url)
        #expect(job.model == folder.url.appendingPathComponent("m").standardizedFileURL.path)
        #expect(job.transcoders == "/abs/t")
        #expect(job.corpus == folder.url.deletingLastPathComponent().appendingPathComponent("c.jsonl").standardizedFileURL.path)
        #expect(job.promptsPerTask == 3 && job.workers == 4 && job.leaseSeconds == 30 && job.heartbeatSeconds == 1.5)
        #expect(job.attribution.maxLogits == 7 && job.attribution.logitProb == 0.9 && job.attribution.maxFeatureNodes == 64)
        #expect(job.attribution.batchSize == 32 && job.attribution.updateInterval == 2)
        #expect(job.pruning.nodeThreshold == 0.7 && job.pruning.edgeThreshold == 0.9)
    }

    @Test func hashIdentifiesTheWorkNotWhereItRuns() throws {
        var a = JobSpec(model: "/m", transcoders: "/t", corpus: "/c", output: "/o1")
        var b = a
        b.output = "/o2"; b.workers = 9; b.leaseSeconds = 5
        #expect(a.hash == b.hash)
        a.attribution.batchSize = 128
        #expect(a.hash != b.hash)
        #expect(a.hash.count == 64)
    }

    @Test(arguments: [
        ("transcoders: t\ncorpus: c\noutput: o\n", "model", "missing"),
        ("model: 3\ntranscoders: t\ncorpus: c\noutput: o\n", "model", "expected a path"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nworkers: -1\n", "workers", "outside"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nlease_seconds: 2\nheartbeat_seconds: 2\n", "heartbeat_seconds", "half"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: {batch: 3}\n", "attribution.batch", "unknown field"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: 5\n", "attribution", "expected a mapping"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\npruning: {edge_threshold: yes}\n", "pruning.edge_threshold", "expected a number"),
        // Ranges are the graph parameters' own (the engine would fail every prompt on these).
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: {logit_prob: 0}\n", "attribution.logit_prob", "must be a number in (0, 1] (got 0.0)"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: {max_logits: 0}\n", "attribution.max_logits", "must be an integer from 1"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: {batch_size: 100001}\n", "attribution.batch_size", "must be an integer from 1 to 100000"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nattribution: {max_feature_nodes: -1}\n", "attribution.max_feature_nodes", "must be an integer from 0"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\npruning: {node_threshold: 1.5}\n", "pruning.node_threshold", "must be a number in [0, 1]"),
    ])
    func errorsNameTheField(yaml: String, field: String, reason: String) throws {
        let (folder, url) = try write(yaml)
        defer { folder.remove() }
        do {
            _ = try JobSpec.load(url)
            Issue.record("accepted: \(yaml)")
        } catch let e as JobSpecError {
            #expect(e.field == field)
            #expect(e.reason.contains(reason), "\(e)")
            #expect(e.description.hasPrefix(url.path))
        }
    }

    /// Finding 8: a repeated key (the last one used to win silently) and an alias bomb (4.5 GB
    /// and 17 s through `Yams.load`) are errors naming the file and the key.
    @Test(arguments: [
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\nmodel: other\n", "model", "duplicate key (line 5; first at line 1)"),
        ("model: m\ntranscoders: t\ncorpus: c\noutput: o\npruning:\n  node_threshold: 0.5\n  node_threshold: 0.9\n",
         "pruning.node_threshold", "duplicate key (line 7; first at line 6)"),
        ("a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
         + "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
         + "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n", "b[0]", "uses an alias of the list anchored at line 1"),
    ])
    func strictYAMLNamesTheKey(yaml: String, field: String, reason: String) throws {
        let (folder, url) = try write(yaml)
        defer { folder.remove() }
        let start = Date()
        #expect { _ = try JobSpec.load(url) } throws: { error in
            guard let e = error as? JobSpecError else { return false }
            return e.file == url.path && e.field == field && e.reason.hasPrefix(reason)
        }
        #expect(Date().timeIntervalSince(start) < 2)
    }

    /// Finding 10 for jobs: an output folder under a file fails the input check naming the
    /// field, not with Foundation's error when the run creates it.
    @Test func shardTransferIsReadButIsNotPartOfTheWork() throws {
        let base = "model: m\ntranscoders: t\ncorpus: c\noutput: o\n"
        let (folder, url) = try write(base + "shard_transfer: zeromq\n")
        defer { folder.remove() }
        let job = try JobSpec.load(url)
        #expect(job.shardTransfer == .zeromq)
        try (base).write(to: url, atomically: true, encoding: .utf8)
        let plain = try JobSpec.load(url)
        #expect(plain.shardTransfer == .filesystem)
        #expect(plain.hash == job.hash, "how shards travel is not what is computed")
        // Absent from the encoding when filesystem (job.json and hashes of older jobs stay), kept otherwise.
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("shardTransfer"))
        #expect(try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(job)) == job)
        try (base + "shard_transfer: nfs\n").write(to: url, atomically: true, encoding: .utf8)
        #expect { try JobSpec.load(url) } throws: { "\($0)".contains("field 'shard_transfer'") && "\($0)".contains("filesystem, zeromq") }
    }

    @Test func outputUnderAFileIsNamed() throws {
        let (folder, url) = try write("model: m\ntranscoders: t\ncorpus: c.txt\noutput: blocker/out\n")
        defer { folder.remove() }
        for name in ["m", "t"] { try FileManager.default.createDirectory(at: folder.file(name), withIntermediateDirectories: true) }
        try Data("x".utf8).write(to: folder.file("c.txt"))
        try Data("x".utf8).write(to: folder.file("blocker"))
        let job = try JobSpec.load(url)
        #expect(throws: JobSpecError(file: url.path, field: "output",
                                     reason: "\(folder.file("blocker").standardizedFileURL.path) is a file, not a folder (\(job.output))")) {
            try job.checkInputs(file: url.path)
        }
    }

    /// `pruning.keep_full_graphs`: off by default and then absent from the encoding (so a job
    /// without it keeps the hash of earlier versions, and their job.json still decodes); on, it
    /// is part of the work; it needs graphs.
    @Test func keepFullGraphsIsAnOptInPartOfTheWork() throws {
        let base = "model: m\ntranscoders: t\ncorpus: c\noutput: o\n"
        let (folder, url) = try write(base + "pruning: {node_threshold: 0.7, keep_full_graphs: true}\n")
        defer { folder.remove() }
        let on = try JobSpec.load(url)
        #expect(on.keepFullGraphs && on.pruning.nodeThreshold == 0.7)
        try (base + "pruning: {node_threshold: 0.7}\n").write(to: url, atomically: true, encoding: .utf8)
        let off = try JobSpec.load(url)
        #expect(!off.keepFullGraphs && off.hash != on.hash)
        func keys(_ job: JobSpec) throws -> Set<String> {
            Set((try JSONSerialization.jsonObject(with: JSONEncoder().encode(job)) as? [String: Any] ?? [:]).keys)
        }
        let earlier: Set = ["model", "transcoders", "corpus", "output", "promptsPerTask", "workers", "leaseSeconds", "heartbeatSeconds",
                            "attribution", "pruning", "statistics"]
        #expect(try keys(off) == earlier, "the encoding (and so the hash) of a job without the option is the earlier versions'")
        #expect(try keys(on) == earlier.union(["keepFullGraphs"]))
        #expect(try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(on)).keepFullGraphs)
        #expect(try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(off)) == off)
        for (yaml, reason) in [("pruning: {keep_full_graphs: 1}\n", "expected true or false"),
                               ("pruning: {keep_full_graphs: true}\nstatistics: {attribution: false}\n", "statistics.attribution must be true")] {
            try (base + yaml).write(to: url, atomically: true, encoding: .utf8)
            #expect { _ = try JobSpec.load(url) } throws: {
                ($0 as? JobSpecError)?.field == "pruning.keep_full_graphs" && "\($0)".contains(reason)
            }
        }
    }

    @Test func evaluationSectionIsOptionalAndResolvesFacts() throws {
        let base = "model: m\ntranscoders: t\ncorpus: c\noutput: o\n"
        let (folder, url) = try write(base + "evaluation: {features: 7, facts: ../f.json}\n")
        defer { folder.remove() }
        let job = try JobSpec.load(url)
        #expect(job.evaluation == JobSpec.Evaluation(features: 7, facts: folder.url.deletingLastPathComponent().appendingPathComponent("f.json").standardizedFileURL.path))
        try (base + "evaluation: {}\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(try JobSpec.load(url).evaluation == JobSpec.Evaluation(features: 10, facts: nil))
        try base.write(to: url, atomically: true, encoding: .utf8)
        let off = try JobSpec.load(url)
        #expect(off.evaluation == nil)
        #expect(off.hash != job.hash, "evaluation is part of the work")
        // job.json of an earlier version (no evaluation) still decodes; a peer's job is bounded.
        var wire = JobSpec(model: "/m", transcoders: "/t", corpus: "/c", output: "/o")
        #expect(try JSONDecoder().decode(JobSpec.self, from: JSONEncoder().encode(wire)).evaluation == nil)
        wire.evaluation = JobSpec.Evaluation(features: 0)
        #expect { try wire.validate(source: "peer") } throws: { ($0 as? JobSpecError)?.field == "evaluation.features" }
    }

    @Test(arguments: [
        ("evaluation: {features: 0}\n", "evaluation.features", "0 is outside 1...10000"),
        ("evaluation: {features: many}\n", "evaluation.features", "expected an integer"),
        ("evaluation: {facts: 3}\n", "evaluation.facts", "expected a path"),
        ("evaluation: {feature: 3}\n", "evaluation.feature", "unknown field"),
        ("evaluation: 10\n", "evaluation", "expected a mapping"),
        ("statistics: {attribution: false}\nevaluation: {facts: f.json}\n", "evaluation.facts", "statistics.attribution must be true"),
    ])
    func evaluationErrorsNameTheField(extra: String, field: String, reason: String) throws {
        try errorsNameTheField(yaml: "model: m\ntranscoders: t\ncorpus: c\noutput: o\n" + extra, field: field, reason: reason)
    }

    @Test func missingFactsFileIsNamed() throws {
        let (folder, url) = try write("model: m\ntranscoders: t\ncorpus: c.txt\noutput: out\nevaluation: {facts: nope.json}\n")
        defer { folder.remove() }
        for name in ["m", "t"] { try FileManager.default.createDirectory(at: folder.file(name), withIntermediateDirectories: true) }
        try Data("x".utf8).write(to: folder.file("c.txt"))
        let job = try JobSpec.load(url)
        #expect { try job.checkInputs(file: url.path) } throws: {
            ($0 as? JobSpecError)?.field == "evaluation.facts" && "\($0)".contains("no such file")
        }
    }

    @Test func missingFileAndNonMapping() throws {
        #expect(throws: JobSpecError.self) { try JobSpec.load(URL(fileURLWithPath: "/nonexistent/job.yaml")) }
        let (folder, url) = try write("- a list\n")
        defer { folder.remove() }
        #expect { try JobSpec.load(url) } throws: { "\($0)".contains("expected a mapping") }
    }
}

@Suite struct CorpusTests {
    @Test func jsonlRecordsBadLinesWithReasons() {
        let text = """
        {"id": "a", "prompt": "one"}

        {"id": 7, "prompt": "two"}
        {broken
        {"prompt": "no id"}
        {"id": "b"}
        {"id": "a", "prompt": "again"}
        {"id": "c", "prompt": ""}
        """
        let c = Corpus.parse(text, jsonl: true)
        #expect(c.prompts == [PromptItem(id: "a", text: "one"), PromptItem(id: "7", text: "two")])
        #expect(c.invalid.map(\.line) == [4, 5, 6, 7, 8])
        #expect(c.invalid.map(\.id) == ["line-4", "line-5", "b", "line-7", "c"])
        #expect(c.invalid[0].reason == "not a JSON object")
        #expect(c.invalid[3].reason.contains("duplicate id \"a\""))
    }

    @Test func plainTextIsOnePromptPerLine() {
        let c = Corpus.parse("first prompt\r\n\nsecond\n", jsonl: false)
        #expect(c.prompts == [PromptItem(id: "line-1", text: "first prompt"), PromptItem(id: "line-3", text: "second")])
        #expect(c.invalid.isEmpty)
    }
}

@Suite struct JournalTests {
    /// Deferred events become durable from the background thread without the appender waiting;
    /// appends from another thread meanwhile all land, in order.
    @Test func backgroundSyncMakesDeferredEventsDurable() throws {
        let folder = try ScratchFolder("journal-sync")
        defer { folder.remove() }
        let url = folder.file("journal.jsonl")
        let j = try Journal(url: url)
        j.startBackgroundSync(every: .milliseconds(2))
        let events = (0..<2000).map { JournalEvent.taskCompleted(taskID: $0, workerID: "w\($0 % 7)", sha256: "s", promptsDone: 1, promptsFailed: 0) }
        for e in events.prefix(1000) { try j.appendDeferred(e) }
        let deadline = Date().addingTimeInterval(10)
        while j.needsSync && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(!j.needsSync, "the background thread synced the deferred events")
        for e in events.suffix(1000) { try j.appendDeferred(e) }
        try j.stopBackgroundSync()
        #expect(!j.needsSync)
        try j.append(.finished)
        #expect(try Journal.replay(url) == events + [.finished])
    }

    @Test func replaysEventsAndIgnoresATornLastLine() throws {
        let folder = try ScratchFolder("journal")
        defer { folder.remove() }
        let url = folder.file("journal.jsonl")
        let events: [JournalEvent] = [
            .started(jobHash: "h", tasks: 3, prompts: 10),
            .taskCompleted(taskID: 1, workerID: "w", sha256: "s", promptsDone: 3, promptsFailed: 1),
            .taskFailed(taskID: 2, reason: "boom"),
        ]
        do {
            let j = try Journal(url: url)
            for e in events { try j.append(e) }
        }
        #expect(try Journal.replay(url) == events)
        // A kill during a write leaves a torn line; replay ignores it and appending goes on after it.
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"time":1,"event":{"taskCompl"#.utf8))
        try handle.close()
        #expect(try Journal.replay(url) == events)
        try Journal(url: url).append(.finished)
        #expect(try Journal.replay(url) == events + [.finished])
    }

    /// Many events, decoded in parallel chunks: the same events in the same order; deferred
    /// appends are there once synced; a line in the middle that is JSON but no event is an error
    /// naming it, wherever its chunk falls.
    @Test func replaysLongJournalsInOrder() throws {
        let folder = try ScratchFolder("journal-long")
        defer { folder.remove() }
        let url = folder.file("journal.jsonl")
        let events: [JournalEvent] = (0..<20_000).map {
            $0 % 7 == 0 ? .taskFailed(taskID: $0, reason: "r\($0)")
                : .taskCompleted(taskID: $0, workerID: "w\($0 % 13)", sha256: "s", promptsDone: $0 % 5, promptsFailed: 0)
        }
        let j = try Journal(url: url)
        try j.append(contentsOf: Array(events[..<15_000]))
        for e in events[15_000...] { try j.appendDeferred(e) }
        #expect(j.needsSync)
        try j.sync()
        #expect(!j.needsSync)
        #expect(try Journal.replay(url) == events)
        let handle = try FileHandle(forWritingTo: url)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"time":1,"event":{"unknown":{}}}"#.utf8 + [UInt8(ascii: "\n")]))
        try handle.close()
        try j.append(.finished)
        #expect(throws: JournalError.self) { try Journal.replay(url) }
    }

    @Test func missingJournalIsEmpty() throws {
        #expect(try Journal.replay(URL(fileURLWithPath: "/nonexistent/journal.jsonl")).isEmpty)
    }
}

@Suite struct MessageCodecTests {
    static let swap = BridgeSwapItem(id: "p", bridge: "texas", target: "california", answer: "austin", targetAnswer: "sacramento",
                                     bridgeFeatures: [[1, 2]], targetFeatures: [[0, 5], [3, 7]], targetValues: [1.5, 2])

    /// A peer's bridge-swap task is checked before a worker acts on it.
    @Test(arguments: [
        (TaskAssignment(taskID: 9, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")], swaps: []), "0 bridge swaps for 1 prompts"),
        (TaskAssignment(taskID: 9, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "q", text: "t")], swaps: [swap]), "bridge swap p for prompt q"),
        (TaskAssignment(taskID: -1, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")]), "malformed task"),
    ] + [
        ({ var s = swap; s.bridgeFeatures = [[1]]; return s }(), "bridge feature [1] is not [layer, feature]"),
        ({ var s = swap; s.targetFeatures = [[0, -5], [3, 7]]; return s }(), "target feature [0, -5]"),
        ({ var s = swap; s.targetValues = [1]; return s }(), "1 values for 2 target features"),
        ({ var s = swap; s.targetValues = [.nan, 1]; return s }(), "not a finite activation"),
        ({ var s = swap; s.targetAnswer = ""; return s }(), "target answer must be a word"),
        ({ var s = swap; s.target = "a\0b"; return s }(), "without NUL"),
    ].map { (TaskAssignment(taskID: 9, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")], swaps: [$0.0]), $0.1) })
    func malformedTasksAreNamed(task: TaskAssignment, problem: String) {
        #expect(task.problem?.contains(problem) == true, "\(task.problem ?? "accepted")")
    }

    @Test func wellFormedTasksPass() {
        #expect(TaskAssignment(taskID: 9, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")], swaps: [Self.swap]).problem == nil)
    }

    @Test func roundTripsEveryKind() throws {
        let messages: [Message] = [
            .hello(workerID: "w", capabilities: WorkerCapabilities(host: "h", pid: 3, threads: 2, version: "0.1.0")),
            .ready(workerID: "w"), .heartbeat(workerID: "w", taskID: 4, attempt: 2), .heartbeat(workerID: "w", taskID: nil, attempt: nil),
            .result(TaskResult(taskID: 1, attempt: 1, workerID: "w", sha256: "ab", promptsDone: 2, promptsFailed: 1, seconds: 0.5)),
            .failure(taskID: 1, attempt: 1, workerID: "w", reason: "r", transient: true), .goodbye(workerID: "w", reason: "r"),
            .job(JobSpec(model: "/m", transcoders: "/t", corpus: "/c", output: "/o")), .reject(reason: "r"),
            .task(TaskAssignment(taskID: 2, attempt: 3, jobHash: "h", prompts: [PromptItem(id: "p", text: "é ✓")])),
            .task(TaskAssignment(taskID: 9, attempt: 1, jobHash: "h", prompts: [PromptItem(id: "p", text: "t")], swaps: [Self.swap])),
            .idle(retryMilliseconds: 500), .shutdown,
            .shardStart(ShardUploadStart(workerID: "w", taskID: 1, attempt: 2, totalBytes: 10, sha256: "ab")),
            .shardChunk(ShardChunk(workerID: "w", taskID: 1, attempt: 2, offset: 4, sha256: "cd", bytes: Data([0, 1, 255, 10]))),
            .shardAck(ShardAck(taskID: 1, attempt: 2, offset: 8)), .shardAck(ShardAck(taskID: 1, attempt: 2, offset: 0, refused: "no")),
        ]
        for m in messages { #expect(try MessageCodec.decode(MessageCodec.encode(m)) == m) }
    }

    @Test func rejectsForeignTruncatedAndOtherVersions() throws {
        let frame = try MessageCodec.encode(.shutdown)
        #expect(throws: MessageError.notACircuitsMessage(bytes: 5)) { try MessageCodec.decode(Data("hello".utf8)) }
        #expect(throws: MessageError.lengthMismatch(declared: frame.count - 10, actual: frame.count - 11)) {
            try MessageCodec.decode(frame.dropLast())
        }
        var v2 = frame
        v2[v2.startIndex + 5] = 1
        #expect(throws: MessageError.versionMismatch(theirs: 1, ours: Int(MessageCodec.version))) { try MessageCodec.decode(v2) }
        var garbage = Data(frame.prefix(10))
        garbage[garbage.startIndex + 9] = 3
        garbage.append(Data("{x}".utf8))
        #expect { try MessageCodec.decode(garbage) } throws: { "\($0)".contains("malformed message payload") }
    }

    @Test func travelsOverRealSockets() throws {
        let context = try ZMQContext()
        let router = try ZMQSocket(context, kind: .router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let dealer = try ZMQSocket(context, kind: .dealer, identity: "worker-1")
        try dealer.connect(endpoint)
        try dealer.send([MessageCodec.encode(.ready(workerID: "worker-1"))])
        let frames = try #require(try router.receive(timeoutMilliseconds: 5000))
        #expect(frames.count == 2 && String(decoding: frames[0], as: UTF8.self) == "worker-1")
        #expect(try MessageCodec.decode(frames[1]) == .ready(workerID: "worker-1"))
        try router.send([frames[0], MessageCodec.encode(.idle(retryMilliseconds: 7))])
        let reply = try #require(try dealer.receive(timeoutMilliseconds: 5000))
        #expect(try MessageCodec.decode(reply[0]) == .idle(retryMilliseconds: 7))
        #expect(try dealer.receive(timeoutMilliseconds: 10) == nil)
        // ROUTER_MANDATORY: a message to a peer that is not there fails instead of vanishing.
        #expect(throws: ZMQError.self) { try router.send([Data("nobody".utf8), Data("x".utf8)]) }
        dealer.close(); router.close(); context.terminate()
    }
}
