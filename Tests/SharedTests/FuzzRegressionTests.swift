import Foundation
import Testing
import TestSupport
@testable import Shared

/// The wire-message and job-spec fuzz targets' inputs (`Fuzz/`, docs/fuzzing.md): the seed
/// messages must stay valid frames of the current protocol (else the fuzzer starts from
/// nothing), and committed job-spec crash inputs must be refused with an error.
@Suite struct FuzzRegressionTests {
    static let seeds = repositoryRoot.appendingPathComponent("Fuzz/Corpus/FuzzMessage")

    /// Every seed decodes, and decodes to the kind its file is named after.
    @Test func seedMessagesDecode() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.seeds.path).filter { $0.hasSuffix(".msg") }.sorted()
        #expect(names.count >= 12)
        for name in names {
            let frame = try Data(contentsOf: Self.seeds.appendingPathComponent(name))
            let message = try MessageCodec.decode(frame)
            #expect(name.hasPrefix(message.kind), "\(name) decodes to a \(message.kind) message")
            #expect(try MessageCodec.decode(try MessageCodec.encode(message)) == message)
        }
    }

    @Test(arguments: FuzzRegressions.names("FuzzJobSpec"))
    func jobSpecIsRefused(name: String) throws {
        let scratch = try ScratchFolder("fuzz-regression")
        defer { scratch.remove() }
        let url = try FuzzRegressions.write("FuzzJobSpec", name, into: scratch.url, as: "job.yaml")
        #expect(throws: JobSpecError.self) { try JobSpec.load(url) }
    }
}
