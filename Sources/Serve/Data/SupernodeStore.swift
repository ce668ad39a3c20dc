import Foundation
import Storage

/// Supernodes (named groups of a graph's feature nodes), kept in `supernodes.json` in the served
/// folder: `{"version": 1, "graphs": {"<prompt id>": [{"name": …, "nodes": [node keys]}]}}`.
/// Writes replace the file in one step (`AtomicFile`); one writer at a time.
public final class SupernodeStore: @unchecked Sendable {
    public struct Supernode: Codable, Sendable, Equatable {
        public var name: String
        /// Node keys (`ServedGraph.Node.key`), e.g. `L2/F117@5`.
        public var nodes: [String]
        public init(name: String, nodes: [String]) { self.name = name; self.nodes = nodes }
    }
    struct File: Codable { var version = 1; var graphs: [String: [Supernode]] = [:] }

    public static let fileName = "supernodes.json"
    public let url: URL
    private let lock = NSLock()

    public init(folder: URL) { url = folder.appendingPathComponent(Self.fileName) }

    /// The supernodes of graph `id` (none when the file does not exist).
    public func supernodes(of id: String) throws -> [Supernode] {
        lock.lock(); defer { lock.unlock() }
        return try read().graphs[id] ?? []
    }

    /// Adds `supernode` to graph `id`, replacing one of the same name; returns the graph's list.
    ///
    /// - Throws: `ServeError.badRequest` for an empty name or node list, `ServeError.forbidden`
    ///   when the folder cannot be written (read-only run folders).
    public func save(_ supernode: Supernode, in id: String) throws -> [Supernode] {
        let name = supernode.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw ServeError.badRequest("a supernode needs a name of 1 to 100 characters") }
        guard !supernode.nodes.isEmpty, supernode.nodes.count <= 10_000 else {
            throw ServeError.badRequest("a supernode needs 1 to 10000 node keys")
        }
        return try update(id) { list in
            list.removeAll { $0.name == name }
            list.append(Supernode(name: name, nodes: supernode.nodes))
        }
    }

    /// Removes graph `id`'s supernode `name`; returns the graph's list.
    public func delete(_ name: String, in id: String) throws -> [Supernode] {
        try update(id) { list in
            guard list.contains(where: { $0.name == name }) else { throw ServeError.notFound("graph '\(id)' has no supernode named '\(name)'") }
            list.removeAll { $0.name == name }
        }
    }

    private func update(_ id: String, _ change: (inout [Supernode]) throws -> Void) throws -> [Supernode] {
        lock.lock(); defer { lock.unlock() }
        var file = try read()
        var list = file.graphs[id] ?? []
        try change(&list)
        file.graphs[id] = list.isEmpty ? nil : list
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do { try AtomicFile.write(try encoder.encode(file), to: url) } catch {
            throw ServeError.forbidden("cannot save supernodes: \(url.deletingLastPathComponent().path) is not writable (\(error)); serve a writable copy of the folder to keep supernodes")
        }
        return list
    }

    private func read() throws -> File {
        guard let data = FileManager.default.contents(atPath: url.path) else { return File() }
        do { return try JSONDecoder().decode(File.self, from: data) } catch {
            throw ServeError.unreadable("\(url.path) is not a supernodes file (\(error)); move it away to start afresh")
        }
    }
}
