// AtomicFile: the destination is replaced by rename(2) in one step, a throwing body leaves it
// untouched, and no temporary file survives either way.
import Foundation
import Storage
import Testing
import TestSupport

@Suite struct AtomicFileTests {
    struct Planned: Error {}

    @Test func createsTheDestinationFromTheTemporaryFileBesideIt() throws {
        let folder = try ScratchFolder("atomic-new")
        defer { folder.remove() }
        let url = folder.file("out.h5")
        let used = try AtomicFile.write(to: url) { tmp -> URL in
            #expect(tmp.deletingLastPathComponent().path == folder.url.path, "same folder, hence same file system")
            #expect(tmp.lastPathComponent.hasPrefix(".out.h5.tmp-"))
            #expect(!FileManager.default.fileExists(atPath: url.path), "nothing at the destination while writing")
            try Data("new".utf8).write(to: tmp)
            return tmp
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "new")
        #expect(!FileManager.default.fileExists(atPath: used.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["out.h5"])
    }

    @Test(arguments: [true, false])
    func replacesTheDestinationInOneStep(durable: Bool) throws {
        let folder = try ScratchFolder("atomic-replace")
        defer { folder.remove() }
        let url = folder.file("report.json")
        try Data("old".utf8).write(to: url)
        // A reader that opened the old file keeps reading it: the new file is a new inode renamed
        // over the name, not the old one truncated and rewritten (nor removed, then moved).
        let reader = try FileHandle(forReadingFrom: url)
        defer { try? reader.close() }
        try AtomicFile.write(to: url, durable: durable) { tmp in
            #expect(try String(contentsOf: url, encoding: .utf8) == "old", "the old content stays in place while writing")
            try Data("brand new".utf8).write(to: tmp)
        }
        #expect(String(decoding: try reader.readToEnd() ?? Data(), as: UTF8.self) == "old")
        #expect(try String(contentsOf: url, encoding: .utf8) == "brand new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["report.json"])
    }

    @Test func aThrowingBodyKeepsTheOldContentAndLeavesNoTemporaryFile() throws {
        let folder = try ScratchFolder("atomic-throw")
        defer { folder.remove() }
        let url = folder.file("aggregate.h5")
        try Data("old".utf8).write(to: url)
        #expect(throws: Planned.self) {
            try AtomicFile.write(to: url) { tmp in
                try Data("partial".utf8).write(to: tmp)
                throw Planned()
            }
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["aggregate.h5"])
    }

    @Test func aBodyThatWritesNothingIsAnErrorNamingTheDestination() throws {
        let folder = try ScratchFolder("atomic-nothing")
        defer { folder.remove() }
        let url = folder.file("graph.h5")
        do {
            try AtomicFile.write(to: url, durable: false) { _ in }
            Issue.record("expected an AtomicFileError")
        } catch let error as AtomicFileError {
            #expect(error.file == url.path && error.operation == "rename")
            #expect(error.description.contains(url.path))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    @Test func writesData() throws {
        let folder = try ScratchFolder("atomic-data")
        defer { folder.remove() }
        let url = folder.file("report.html")
        try AtomicFile.write(Data("<html>".utf8), to: url)
        try AtomicFile.write(Data("<html>2".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "<html>2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["report.html"])
    }
}
