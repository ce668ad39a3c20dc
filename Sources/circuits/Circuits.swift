import ArgumentParser
import Foundation
import Logging

/// `circuits`: attribution graphs of transformer language models, one prompt or a whole corpus.
@main
struct Circuits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "circuits",
        abstract: "Trace the circuits of transformer language models with transcoders, at corpus scale.",
        discussion: """
        Attribution graphs replace a model's MLPs by transcoder features, freeze attention patterns \
        and norm scales on one prompt, and record every direct linear effect between token \
        embeddings, features, error nodes and output logits. Results reproduce circuit-tracer 0.5.0.

        One prompt: `circuits trace --help`; feature interventions on it: `circuits intervene \
        --help`. A whole corpus on this machine: `circuits run JOB` (see jobs/demo.yaml). On a \
        cluster: `circuits coordinator JOB` plus `circuits worker` on every node; the coordinator \
        merges and writes the report when the corpus is done (`circuits merge` and `circuits \
        report` re-run those steps).

        Every command takes --log-level (trace, debug, info, notice, warning, error, critical; \
        default info). Logs go to standard error: plain lines on a terminal, with a timestamp, \
        the logger's label and metadata when standard error is a file or a pipe.
        """,
        subcommands: [Trace.self, Intervene.self, EAP.self, Run.self, Coordinate.self, WorkerCommand.self, Keys.self, Merge.self, Report.self, Export.self, Features.self, GlobalWeights.self, ServeCommand.self, TrainTranscoders.self, Bench.self]
    )

    /// Parses the command line, bootstraps the log handler at the command's `--log-level`, runs
    /// the command (ArgumentParser's own `main`, plus the bootstrap).
    static func main() {
        do {
            var command = try parseAsRoot()
            StandardErrorLogHandler.bootstrap(level: (command as? any LoggingCommand)?.logging.logLevel ?? .info)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// Runs `body`; a failure becomes one `error: …` line on standard error and exit status 2.
/// The line is written directly, not through the log handler: the same at every `--log-level`,
/// never timestamped, so scripts can rely on it.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(2)
    }
}

/// A command failed at run time for a reason it states (printed as `error: <reason>`).
struct RunError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}
