import ArgumentParser
import Foundation
import Serve

extension Circuits {
    struct ServeCommand: LoggingCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Browse a run's report, graphs and features, or traced graph.h5 files, in a web browser.",
            discussion: """
            Serves from this binary and the given folder only (no CDN, no network):

              /                  the corpus report, computed live from aggregate.h5;
                                 features (L0/F197) and prompt ids are links
              /graph/ID          a prompt's attribution graph: layer x position,
                                 embeddings at the bottom, logits at the top;
                                 thresholds re-prune it; click a node for its
                                 inputs, outputs and dashboard; group features
                                 into supernodes (saved to supernodes.json)
              /feature/L0/F197   a feature: dashboard, the graphs holding it,
                                 labels, global-weight partners
              /search?q=         features by id, prompts by id or text, tokens
              /api/...           the JSON of every page (docs/serve-api.md;
                                 start at /api/info)

            PATH is a run folder (merged: aggregate.h5), a graph.h5 of \
            `circuits trace`, or a folder of them. Corpus runs store pruned graphs, \
            so their thresholds only tighten; a graph.h5 holds the whole graph and \
            re-prunes both ways.

            Binds loopback by default. Writes (supernodes) are accepted only with a \
            Host naming this server and, from browsers, an Origin of this server. \
            Ctrl-C stops.

            Examples:
              circuits serve out/demo             # open http://127.0.0.1:8047/
              circuits serve graph.h5 --port 0    # any free port, URL printed
            """
        )

        @Argument(help: "Run folder (with aggregate.h5), graph.h5 of `circuits trace`, or a folder of graph.h5 files.")
        var path: String

        @Option(help: "Port to listen on (0: any free port; the URL printed says which).")
        var port: Int = 8047

        @Option(help: "Address to bind. Anything but loopback exposes the viewer to the network.")
        var host: String = "127.0.0.1"

        @OptionGroup var logging: LoggingOptions

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535 (got \(port))") }
            guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
        }

        func run() throws {
            try reportingErrors {
                let url = URL(fileURLWithPath: path)
                let outcome = ServeOutcome()
                let done = DispatchSemaphore(value: 0)
                let (host, port) = (host, port)
                Task {
                    do {
                        try await ViewerServer.run(path: url, host: host, port: port) { address in
                            FileHandle.standardOutput.write(Data("serving \(url.path) at \(address)  (Ctrl-C stops)\n".utf8))
                        }
                    } catch {
                        outcome.set(error)
                    }
                    done.signal()
                }
                done.wait()
                if let error = outcome.error { throw error }
            }
        }
    }
}

/// The server task's failure, handed to the command's thread.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
    func set(_ e: Error) { lock.lock(); stored = e; lock.unlock() }
}
