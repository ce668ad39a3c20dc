// `circuits serve` as users run it: a real server process on loopback, asked by a real HTTP
// client (curl, which can send paths and headers as given), on a run folder made by
// `circuits run` and on a graph.h5 made by `circuits trace`.
import Foundation
import Testing
import TestSupport

/// An HTTP answer.
struct HTTPAnswer {
    var status: Int, body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var list: [Any] { (try? JSONSerialization.jsonObject(with: body)) as? [Any] ?? [] }
}

/// A `circuits serve` process on a free loopback port.
final class ServeProcess {
    let process: CircuitsProcess
    let base: String, port: Int

    init(_ path: URL, logs: URL, extra: [String] = []) throws {
        let p = try CircuitsProcess(["serve", path.path, "--port", "0"] + extra, logs: logs, name: "serve-\(UUID().uuidString.prefix(6))")
        process = p
        var url: String?
        _ = eventually(seconds: 60) {
            url = p.stdout.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init)
            return url != nil || !p.process.isRunning
        }
        guard let url else { throw ServeTestError("serve did not start: \(p.stderr)") }
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
        port = Int(base.split(separator: ":").last ?? "") ?? 0
    }

    deinit { process.kill(SIGTERM); process.wait(seconds: 10) }

    /// `curl` with the path sent exactly as given.
    func request(_ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil) throws -> HTTPAnswer {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-s", "--path-as-is", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
        for (k, v) in headers { args += ["-H", "\(k): \(v)"] }
        if let body { args += ["--data-binary", body] }
        p.arguments = args + [base + path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard let cut = data.lastIndex(of: UInt8(ascii: "\n")) else { throw ServeTestError("curl gave no status for \(path)") }
        return HTTPAnswer(status: Int(String(decoding: data[(cut + 1)...], as: UTF8.self)) ?? 0, body: Data(data[..<cut]))
    }

    func postJSON(_ path: String, _ body: String, host: String? = nil, origin: String? = nil) throws -> HTTPAnswer {
        var headers = ["Content-Type": "application/json"]
        if let host { headers["Host"] = host }
        if let origin { headers["Origin"] = origin }
        return try request(path, method: "POST", headers: headers, body: body)
    }
}

struct ServeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// One traced run (labelled corpus, 6 prompts) and one traced graph.h5, made once for the suite.
enum ServeFixture {
    static let run: Result<URL, Error> = Result {
        let job = try TestJob("serve", prompts: Array(corpusPrompts(6)), promptsPerTask: 3)
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        guard r.status == 0 else { throw ServeTestError("circuits run failed: \(r.stderr)") }
        return job.output
    }
    /// A run whose job keeps full graphs (`pruning.keep_full_graphs`), tracing the prompt of
    /// `graph` (as `p0`) with `circuits trace`'s parameters.
    static let fullRun: Result<URL, Error> = Result {
        let models = repositoryRoot.appendingPathComponent("models/interim")
        let job = try TestJob("serve-full", prompts: ["the cat sat on the mat", "a big dog ran to the river"], promptsPerTask: 1, yaml: """
            model: \(models.appendingPathComponent("model").path)
            transcoders: \(models.appendingPathComponent("plt").path)
            corpus: corpus.jsonl
            output: out
            prompts_per_task: 1
            workers: 1
            pruning: {node_threshold: 0.8, edge_threshold: 0.98, keep_full_graphs: true}
            statistics: {dashboards: false}
            """)
        let r = try CircuitsProcess.run(["run", job.spec.path, "--workers", "1", "--threads", "1"], in: job.folder.url)
        guard r.status == 0 else { throw ServeTestError("circuits run failed: \(r.stderr)") }
        return job.output
    }
    static let graph: Result<URL, Error> = Result {
        let folder = try ScratchFolder("serve-graph")
        let out = folder.file("cat.h5")
        let r = try CircuitsProcess.run(["trace", "--model", InterimModel.model.path, "--transcoders", InterimModel.transcoders.path,
                                         "--prompt", "the cat sat on the mat", "--out", out.path], in: folder.url)
        guard r.status == 0 else { throw ServeTestError("circuits trace failed: \(r.stderr)") }
        return out
    }
}

@Suite(.serialized) struct ServeCommandTests {
    @Test func reportAPIAndFeaturesOfARun() throws {
        let run = try ServeFixture.run.get()
        let logs = try ScratchFolder("serve-logs")
        defer { logs.remove() }
        let s = try ServeProcess(run, logs: logs.url)
        // The report, at / itself, with features and prompts linked.
        let page = try s.request("/")
        #expect(page.status == 200)
        #expect(page.text.contains("Circuit report"))
        #expect(page.text.contains("href=\"/feature/L"), "features link to their pages")
        #expect(page.text.contains("href=\"/graph/p0\""), "prompt ids link to their graphs")
        let info = try s.request("/api/info").json
        #expect(info["kind"] as? String == "run")
        #expect(info["graphs"] as? Int == 6)
        let report = try s.request("/api/report").json
        #expect(report["prompts_done"] as? Int == 6)
        // A graph at its stored pruning, then tightened.
        let g = try s.request("/api/graph/p0")
        #expect(g.status == 200)
        let nodes = (g.json["nodes"] as? [[String: Any]]) ?? []
        #expect(nodes.count == (g.json["total_nodes"] as? Int) && nodes.count > 10)
        #expect(g.json["repruning"] as? String == "tighten")
        let all = try s.request("/api/graph/p0?node_threshold=1&edge_threshold=1").json
        let tight = try s.request("/api/graph/p0?node_threshold=0.5&edge_threshold=0.8").json
        let nAll = (all["nodes"] as? [Any])?.count ?? 0, nTight = (tight["nodes"] as? [Any])?.count ?? 0
        #expect(nTight < nAll && nAll <= nodes.count, "tightening drops nodes: \(nTight) < \(nAll) ≤ \(nodes.count)")
        // Paging and the node budget.
        let page2 = try s.request("/api/graph/p0/nodes?offset=2&limit=3").json
        #expect((page2["items"] as? [Any])?.count == 3 && page2["total"] as? Int == nodes.count)
        let capped = try s.request("/api/graph/p0?max_nodes=5").json
        #expect((capped["nodes"] as? [Any])?.count == 5 && capped["truncated"] as? Bool == true)
        // A feature of that graph.
        let f = try #require(nodes.first { $0["kind"] as? String == "feature" })
        let id = "L\(f["layer"] as! Int)/F\(f["feature"] as! Int)"
        let feature = try s.request("/api/feature/\(id)")
        #expect(feature.status == 200)
        #expect(feature.json["feature"] as? String == id)
        #expect(((feature.json["contexts"] as? [Any])?.count ?? 0) >= 1)
        // The run's own dashboard (issue 15), as circuit-tracer feature JSON: top contexts first.
        let dashboard = try #require(feature.json["dashboard"] as? [String: Any])
        #expect(feature.json["dashboard_note"] == nil)
        #expect(dashboard["index"] as? Int == f["feature"] as? Int && dashboard["layer"] as? Int == f["layer"] as? Int)
        let groups = try #require(dashboard["examples_quantiles"] as? [[String: Any]])
        let top = try #require(groups.first?["examples"] as? [[String: Any]])
        #expect(!top.isEmpty && top.allSatisfy { ($0["tokens"] as? [Any])?.isEmpty == false && $0["prompt_id"] is String })
        #expect(try s.request("/feature/\(id)").status == 200)
        // Search by feature id, prompt id and token.
        let found = try s.request("/api/search?q=\(id)").json
        #expect((found["features"] as? [Any])?.count == 1)
        #expect(((try s.request("/api/search?q=p3").json["prompts"] as? [Any])?.count ?? 0) >= 1)
        #expect(((try s.request("/api/search?q=cat").json["tokens"] as? [Any])?.count ?? 0) >= 1)
        for path in ["/graph/p0", "/search?q=cat", "/assets/graph.js", "/assets/viewer.css"] {
            #expect(try s.request(path).status == 200, "\(path)")
        }
    }

    /// Every bad request: a 4xx answer whose body is `{"error": …, "status": N}`.
    @Test(arguments: [
        ("/api/graph/nope", 404), ("/api/feature/L0/F999999", 404), ("/api/feature/banana", 400),
        ("/api/graph/p0?node_threshold=2", 400), ("/api/graph/p0?edge_threshold=x", 400), ("/api/graph/p0?max_nodes=-1", 400),
        ("/api/graph/../../etc/passwd", 400), ("/api/graph/%2e%2e/%2e%2e/etc/passwd", 400), ("/api/graph/..%2f..%2fetc%2fpasswd", 400),
        ("/assets/../../../etc/passwd", 400), ("/etc/passwd", 404), ("/api/nothing", 404), ("/api/search", 400), ("/graph/nope", 404),
    ])
    func badRequestsGetJSONErrors(path: String, status: Int) throws {
        let logs = try ScratchFolder("serve-bad")
        defer { logs.remove() }
        let s = try ServeProcess(try ServeFixture.run.get(), logs: logs.url)
        let a = try s.request(path)
        #expect(a.status == status, "\(path): \(a.text)")
        #expect(a.json["status"] as? Int == status && (a.json["error"] as? String)?.isEmpty == false, "\(path): \(a.text)")
        #expect(!a.text.contains("root:"), "nothing outside the run folder is served")
    }

    @Test func supernodesPersistAndWritesCheckHostAndOrigin() throws {
        let original = try ServeFixture.run.get()
        let copy = try ScratchFolder("serve-sn")
        defer { copy.remove() }
        let run = copy.file("run")
        try FileManager.default.copyItem(at: original, to: run)
        let s = try ServeProcess(run, logs: copy.url)
        let body = #"{"name": "subject", "nodes": ["L0/F1@2", "L1/F3@4"]}"#
        let ok = try s.postJSON("/api/supernodes/p0", body, origin: "http://127.0.0.1:\(s.port)")
        #expect(ok.status == 200, "\(ok.text)")
        #expect(try s.request("/api/supernodes/p0").list.count == 1)
        let saved = try String(contentsOf: run.appendingPathComponent("supernodes.json"), encoding: .utf8)
        #expect(saved.contains("subject") && saved.contains("L1/F3@4"))
        // Cross-site and DNS-rebinding writes, and a form post.
        #expect(try s.postJSON("/api/supernodes/p0", body, origin: "http://evil.example").status == 403)
        #expect(try s.postJSON("/api/supernodes/p0", body, host: "evil.example:\(s.port)").status == 403)
        #expect(try s.request("/api/supernodes/p0", method: "POST", headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "a=b").status == 400)
        #expect(try s.postJSON("/api/supernodes/p0", "{not json").status == 400)
        #expect(try s.postJSON("/api/supernodes/nope", body).status == 404)
        // A restarted server shows them.
        let again = try ServeProcess(run, logs: copy.url)
        #expect(try again.request("/api/supernodes/p0").list.count == 1)
        #expect(try again.request("/api/supernodes/p0?name=subject", method: "DELETE").status == 200)
        #expect(try again.request("/api/supernodes/p0").list.isEmpty)
    }

    /// A read-only run folder (a tmpfs remounted read-only; needs root): reading works, saving
    /// a supernode is a 403 saying why.
    @Test(.enabled(if: NoDataLossTests.canMount, "needs root to mount a tmpfs"))
    func readOnlyRunFolderRefusesSupernodesClearly() throws {
        let folder = try ScratchFolder("serve-ro")
        defer { NoDataLossTests.run("/bin/umount", [folder.file("run").path]); folder.remove() }
        let run = folder.file("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        #expect(NoDataLossTests.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", run.path]) == 0)
        let original = try ServeFixture.run.get()
        for name in try FileManager.default.contentsOfDirectory(atPath: original.path) {
            try FileManager.default.copyItem(at: original.appendingPathComponent(name), to: run.appendingPathComponent(name))
        }
        #expect(NoDataLossTests.run("/bin/mount", ["-o", "remount,ro", run.path]) == 0)
        let s = try ServeProcess(run, logs: folder.url)
        #expect(try s.request("/api/graph/p0").status == 200)
        let refused = try s.postJSON("/api/supernodes/p0", #"{"name": "x", "nodes": ["L0/F1@2"]}"#)
        #expect(refused.status == 403)
        #expect((refused.json["error"] as? String)?.contains("not writable") == true, "\(refused.text)")
        #expect(try s.request("/api/supernodes/p0").list.isEmpty)
    }

    @Test func aTracedGraphRePrunesBothWays() throws {
        let graph = try ServeFixture.graph.get()
        let s = try ServeProcess(graph, logs: graph.deletingLastPathComponent())
        let stored = try s.request("/api/graph/cat").json
        #expect(stored["repruning"] as? String == "both")
        let n = (stored["nodes"] as? [Any])?.count ?? 0
        let looser = (try s.request("/api/graph/cat?node_threshold=0.99&edge_threshold=0.999").json["nodes"] as? [Any])?.count ?? 0
        let tighter = (try s.request("/api/graph/cat?node_threshold=0.3&edge_threshold=0.5").json["nodes"] as? [Any])?.count ?? 0
        #expect(tighter < n && n < looser, "\(tighter) < \(n) < \(looser)")
        #expect(try s.request("/").text.contains("/graph/cat"))
        #expect(try s.request("/api/report").status == 404)
    }

    /// A run that keeps full graphs loosens as well as tightens, and at every threshold answers
    /// what the graph.h5 of the same prompt answers (`circuits trace`: dense adjacency, another
    /// process); the page says which way its thresholds move.
    @Test func aRunKeepingFullGraphsRePrunesBothWaysLikeATracedGraph() throws {
        let run = try ServeFixture.fullRun.get(), graph = try ServeFixture.graph.get()
        let logs = try ScratchFolder("serve-full-logs")
        defer { logs.remove() }
        let s = try ServeProcess(run, logs: logs.url), t = try ServeProcess(graph, logs: logs.url)
        let stored = try s.request("/api/graph/p0").json
        #expect(stored["repruning"] as? String == "both" && stored["unpruned_source"] as? String == "shard")
        #expect(stored["node_threshold"] as? Double == 0.8 && stored["edge_threshold"] as? Double == 0.98)
        #expect(try t.request("/api/graph/cat").json["unpruned_source"] as? String == "graph.h5")
        func keys(_ g: [String: Any]) -> [String] { ((g["nodes"] as? [[String: Any]]) ?? []).compactMap { $0["key"] as? String } }
        func edges(_ g: [String: Any]) -> [[Double]] {
            ((g["edges"] as? [[Any]]) ?? []).map { $0.compactMap { ($0 as? NSNumber)?.doubleValue } }
        }
        let nStored = keys(stored).count
        for q in ["node_threshold=0.95&edge_threshold=0.995", "node_threshold=0.8&edge_threshold=0.98", "node_threshold=0.5&edge_threshold=0.9"] {
            let a = try s.request("/api/graph/p0?" + q).json, b = try t.request("/api/graph/cat?" + q).json
            #expect(!keys(a).isEmpty && keys(a) == keys(b), "\(q): the same nodes as the graph.h5")
            let ea = edges(a), eb = edges(b)
            #expect(ea.count == eb.count && zip(ea, eb).allSatisfy { $0[0] == $1[0] && $0[1] == $1[1] && abs($0[2] - $1[2]) <= 1e-5 * max(1, abs($1[2])) },
                    "\(q): the same edges as the graph.h5")
        }
        let loose = try s.request("/api/graph/p0?node_threshold=0.95&edge_threshold=0.995").json
        let tight = try s.request("/api/graph/p0?node_threshold=0.5&edge_threshold=0.9").json
        #expect(keys(tight).count < nStored && nStored < keys(loose).count, "\(keys(tight).count) < \(nStored) < \(keys(loose).count)")
        #expect(try s.request("/api/info").json["full_graphs"] as? Int == 2)
        // Without the option (the suite's other run): tightening only, as before.
        let plain = try ServeProcess(try ServeFixture.run.get(), logs: logs.url)
        let p = try plain.request("/api/graph/p0").json
        #expect(p["repruning"] as? String == "tighten" && p["unpruned_source"] == nil && p["node_threshold"] == nil)
        #expect(try plain.request("/api/info").json["full_graphs"] as? Int == 0)
        // The page's threshold controls say which way they move (set by its script from `repruning`).
        let page = try s.request("/graph/p0").text, script = try s.request("/assets/graph.js").text
        #expect(page.contains("id=\"threshold-direction\"") && script.contains("↕ both ways") && script.contains("↓ tighten only"))
        // A shard gone missing since the merge: the run's other graphs still loosen; this one
        // answers with the reason.
        let shard = run.appendingPathComponent("shards/task-000001.h5"), moved = logs.file("task-000001.h5")
        try FileManager.default.moveItem(at: shard, to: moved)
        defer { try? FileManager.default.moveItem(at: moved, to: shard) }
        let gone = try s.request("/api/graph/p1?node_threshold=0.9")
        #expect(gone.status == 500 && (gone.json["error"] as? String)?.contains("task-000001.h5") == true, "\(gone.text)")
    }

    @Test func helpAndStartupErrors() throws {
        let folder = try ScratchFolder("serve-cli")
        defer { folder.remove() }
        let help = try CircuitsProcess.run(["serve", "--help"], in: folder.url)
        #expect(help.stdout.contains("/feature/L0/F197") && help.stdout.contains("--port"))
        let missing = try CircuitsProcess.run(["serve", folder.file("nope").path, "--port", "0"], in: folder.url)
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("error: ") && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        let empty = try CircuitsProcess.run(["serve", folder.url.path, "--port", "0"], in: folder.url)
        #expect(empty.status == 2 && empty.stderr.contains("neither aggregate.h5"), "\(empty.stderr)")
        #expect(try CircuitsProcess.run(["serve", folder.url.path, "--port", "70000"], in: folder.url).status == 64)
    }
}
