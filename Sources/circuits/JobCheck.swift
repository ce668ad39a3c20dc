import Coordinator
import Foundation
import Storage
import Shared
import Tracer

/// Loads a job spec and checks, before anything starts, that its model, transcoders and corpus
/// can be read: a bad field, a missing folder or an unreadable config fails here, naming it.
enum JobCheck {
    static func load(_ path: String, out: String?) throws -> JobSpec {
        let url = URL(fileURLWithPath: path)
        var job = try JobSpec.load(url)
        if let out { job.output = URL(fileURLWithPath: out).standardizedFileURL.path }
        try job.checkInputs(file: url.path)
        do { _ = try ModelConfig(directory: URL(fileURLWithPath: job.model)) } catch {
            throw JobSpecError(file: url.path, field: "model", reason: "\(error)")
        }
        guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: job.model).appendingPathComponent("tokenizer.json").path) else {
            throw JobSpecError(file: url.path, field: "model", reason: "no tokenizer.json in \(job.model)")
        }
        if job.eap == nil {   // an EAP job has no transcoders
            do { _ = try TranscoderConfig(directory: URL(fileURLWithPath: job.transcoders)) } catch {
                throw JobSpecError(file: url.path, field: "transcoders", reason: "\(error)")
            }
        }
        do {
            let corpus = URL(fileURLWithPath: job.corpus)
            _ = try job.eap == nil ? Corpus.load(corpus) : Corpus.loadPairLines(corpus)
        } catch {
            throw JobSpecError(file: url.path, field: job.corpusField, reason: "\(error)")
        }
        if let facts = job.evaluation?.facts {
            do { _ = try Fact.load(URL(fileURLWithPath: facts)) } catch {
                throw JobSpecError(file: url.path, field: "evaluation.facts", reason: "\(error)")
            }
        }
        return job
    }
}
