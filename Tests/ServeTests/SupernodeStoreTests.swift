import Foundation
import Testing
import TestSupport
@testable import Serve

struct SupernodeStoreTests {
    @Test func savesReplacesDeletesAndReloads() throws {
        let folder = try ScratchFolder("supernodes")
        defer { folder.remove() }
        let store = SupernodeStore(folder: folder.url)
        #expect(try store.supernodes(of: "p0").isEmpty)
        _ = try store.save(.init(name: "a", nodes: ["L0/F1@2"]), in: "p0")
        _ = try store.save(.init(name: "b", nodes: ["L1/F2@3"]), in: "p0")
        let replaced = try store.save(.init(name: "a", nodes: ["L0/F1@2", "L0/F5@2"]), in: "p0")
        #expect(replaced.map(\.name) == ["b", "a"] && replaced.last?.nodes.count == 2)
        let reread = SupernodeStore(folder: folder.url)
        #expect(try reread.supernodes(of: "p0") == replaced && reread.supernodes(of: "p1").isEmpty)
        #expect(try reread.delete("b", in: "p0").map(\.name) == ["a"])
        #expect(throws: ServeError.self) { try reread.delete("zzz", in: "p0") }
    }

    @Test(arguments: [SupernodeStore.Supernode(name: " ", nodes: ["x"]), .init(name: "a", nodes: []),
                      .init(name: String(repeating: "n", count: 101), nodes: ["x"])])
    func refusesEmptyOrHugeGroups(s: SupernodeStore.Supernode) throws {
        let folder = try ScratchFolder("supernodes-bad")
        defer { folder.remove() }
        #expect(throws: ServeError.self) { try SupernodeStore(folder: folder.url).save(s, in: "p0") }
    }

    /// A folder that cannot take the file: a 403 naming the folder, not a crash.
    @Test func unwritableFolderIsForbidden() throws {
        let folder = try ScratchFolder("supernodes-ro")
        defer { folder.remove() }
        let missing = folder.file("gone/deeper")
        do {
            _ = try SupernodeStore(folder: missing).save(.init(name: "a", nodes: ["x"]), in: "p0")
            Issue.record("saved into a missing folder")
        } catch let e as ServeError {
            #expect(e.status == 403 && e.description.contains("not writable"))
        }
    }
}
