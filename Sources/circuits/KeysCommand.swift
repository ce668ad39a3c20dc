import ArgumentParser
import Foundation
import Shared

extension Circuits {
    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make CurveZMQ key pairs that authenticate workers and the coordinator to each other.",
            discussion: """
            A coordinator that binds beyond loopback needs keys (or an explicit --insecure). Set up once:

              circuits keys generate keys/coordinator --name coordinator      # on the coordinator host
              circuits keys generate keys/worker-a --name worker              # on each worker host
              mkdir -p keys/coordinator/workers
              cp keys/worker-a/worker.pub keys/coordinator/workers/worker-a.pub   # admit worker-a
              cp keys/coordinator/coordinator.pub keys/worker-a/                  # worker-a trusts it

            then `circuits coordinator JOB --bind tcp://0.0.0.0:5555 --keys keys/coordinator` and \
            `circuits worker --connect tcp://HOST:5555 --keys keys/worker-a`. A .key file holds a \
            secret (mode 0600): it never leaves its host; only .pub files are copied. Revoke a worker \
            by deleting its .pub from keys/coordinator/workers/ (later connections are refused).
            """,
            subcommands: [Generate.self]
        )

        struct Generate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a new key pair: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub (public).")

            @Argument(help: "The folder to write into (created if needed).")
            var dir: String

            @Option(help: "The file name: `coordinator` for a coordinator, `worker` for a worker.")
            var name: String = "worker"

            func validate() throws {
                guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
                    throw ValidationError("--name must be a plain file name (no '/', not starting with '.')")
                }
            }

            func run() throws {
                try reportingErrors {
                    let folder = URL(fileURLWithPath: dir)
                    let key = try CurveKey.generate()
                    try key.write(to: folder, name: name)
                    print("""
                    wrote \(folder.appendingPathComponent(name + ".key").path) (secret: keep it on this host)
                    wrote \(folder.appendingPathComponent(name + ".pub").path)
                    public key \(key.publicKey)
                    """)
                }
            }
        }
    }
}
