// Helpers of the schema reader/writer tests: a scratch HDF5 file, and the check that a missing
// object is reported with the file and the object's name.
import Foundation
import Storage
import Testing
import TestSupport

/// Calls `write` on a fresh HDF5 file, closes it, reopens it for reading and calls `read`.
func writeThenRead<R>(_ label: String, write: (HDF5File) throws -> Void, read: (HDF5File) throws -> R) throws -> R {
    let folder = try ScratchFolder(label)
    defer { folder.remove() }
    let url = folder.file("\(label).h5")
    let w = try HDF5File.create(url)
    try write(w)
    w.close()
    let r = try HDF5File.open(url)
    defer { r.close() }
    return try read(r)
}

/// Expects `body` to throw an `HDF5Error` of kind `.notFound` that names the file and `object`
/// (a dataset path, or `/group@attribute`).
func expectNotFound(_ object: String, in f: HDF5File, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(object) to be reported missing", sourceLocation: sourceLocation)
    } catch let error as HDF5Error {
        #expect(error.kind == .notFound, sourceLocation: sourceLocation)
        #expect(error.file == f.path, sourceLocation: sourceLocation)
        #expect(error.object == object, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(f.path) && error.description.contains(object), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected an HDF5Error, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw a `SchemaError` naming the file and `object`.
func expectSchemaError(_ object: String, in f: HDF5File, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a SchemaError for \(object)", sourceLocation: sourceLocation)
    } catch let error as SchemaError {
        #expect(error.file == f.path && error.object == object, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(f.path) && error.description.contains(object), sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a SchemaError, got \(error)", sourceLocation: sourceLocation)
    }
}

/// Writes a whole table with `write` into one file, copies the datasets of `group` but
/// `missing` into `group` (or `target`) of a second file, and calls `read` on the second file.
/// Numbers are copied as f64 (the readers convert), strings as strings; attributes not at all.
/// `amend` may add to the second file before it is closed (a `missing` of another shape).
func withPartialCopy(_ label: String, write: (HDF5File) throws -> Void, group: String, into target: String? = nil,
                     missing: String, amend: (HDF5File) throws -> Void = { _ in }, read: (HDF5File) throws -> Void) throws {
    let folder = try ScratchFolder(label)
    defer { folder.remove() }
    let whole = try HDF5File.create(folder.file("whole.h5"))
    defer { whole.close() }
    try write(whole)
    let partialURL = folder.file("partial.h5")
    let partial = try HDF5File.create(partialURL)
    let destination = target ?? group
    try partial.createGroup(destination)
    let names = try whole.children(of: group)
    #expect(names.contains(missing), "\(missing) is one of the datasets the writer writes")
    for name in names where name != missing {
        if let strings = try? whole.readStrings(at: "\(group)/\(name)") {
            try partial.writeStrings(strings, at: "\(destination)/\(name)")
        } else {
            let (values, shape) = try whole.read(Double.self, at: "\(group)/\(name)")
            try partial.write(values, shape: shape, at: "\(destination)/\(name)")
        }
    }
    try amend(partial)
    partial.close()
    let f = try HDF5File.open(partialURL)
    defer { f.close() }
    try read(f)
}
