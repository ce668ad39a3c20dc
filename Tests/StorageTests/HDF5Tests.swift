// Tests of Sources/Shared/HDF5: round trips of every element type and shape, bools, strings,
// attributes, groups, appendable datasets, errors, and files read by h5dump and h5py.
import Foundation
import Storage
import Testing

// MARK: - Helpers

/// Runs `body` with the URL of a not-yet-existing `.h5` file in a fresh temporary folder,
/// removed afterwards.
private func withScratchFile<R>(_ body: (URL) throws -> R) throws -> R {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("hdf5-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try body(folder.appendingPathComponent("test.h5"))
}

/// Runs `body` and returns the `HDF5Error` it throws; records an issue if it throws nothing
/// or something else.
private func hdf5Error(sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () throws -> Void) -> HDF5Error? {
    do {
        try body()
        Issue.record("expected an HDF5Error, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as HDF5Error {
        return error
    } catch {
        Issue.record("expected an HDF5Error, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// The element types under test, each with six distinct values including its extremes.
enum ElementCase: String, CaseIterable, Sendable {
    case float, double, int8, uint8, int32, int64, int

    /// Calls `body` with this case's values.
    func withValues<R>(_ body: (any RoundTrippable) throws -> R) rethrows -> R {
        switch self {
        case .float: try body(Values<Float>([-.infinity, -1.5, 0, .leastNonzeroMagnitude, 3.25, .greatestFiniteMagnitude]))
        case .double: try body(Values<Double>([-.greatestFiniteMagnitude, -1e-300, 0, 0.1, .pi, .infinity]))
        case .int8: try body(Values<Int8>([.min, -1, 0, 1, 42, .max]))
        case .uint8: try body(Values<UInt8>([0, 1, 42, 128, 200, .max]))
        case .int32: try body(Values<Int32>([.min, -70_000, 0, 1, 70_000, .max]))
        case .int64: try body(Values<Int64>([.min, -(1 << 40), 0, 1, 1 << 40, .max]))
        case .int: try body(Values<Int>([.min, -(1 << 50), -1, 0, 1 << 50, .max]))
        }
    }
}

/// Six values of one element type, erased so a table of element types can drive one test.
protocol RoundTrippable {
    /// Writes prefixes of the values under `group` in each shape, then reads them back.
    func roundTrip(in url: URL, shapes: [[Int]], compression: Int?) throws
}

struct Values<T: HDF5Element & Equatable>: RoundTrippable {
    let values: [T]
    init(_ values: [T]) { self.values = values }

    func roundTrip(in url: URL, shapes: [[Int]], compression: Int?) throws {
        let file = try HDF5File.create(url)
        for (index, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            try file.write(Array(values.prefix(count)), shape: shape, at: "data/shape\(index)", compression: compression)
        }
        file.close()

        let reopened = try HDF5File.open(url)
        for (index, shape) in shapes.enumerated() {
            let (read, readShape) = try reopened.read(T.self, at: "data/shape\(index)")
            #expect(readShape == shape, "shape \(shape)")
            #expect(read == Array(values.prefix(shape.reduce(1, *))), "shape \(shape)")
            #expect(try reopened.shape(of: "/data/shape\(index)") == shape)
        }
    }
}

/// The location of an executable on `PATH` (or in /usr/bin), nil if there is none.
private func executable(_ name: String) -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return (path.split(separator: ":").map(String.init) + ["/usr/bin"])
        .map { URL(fileURLWithPath: $0).appendingPathComponent(name) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

/// Runs `tool` with `arguments`; output goes through files, so no pipe can fill and block.
private func run(_ tool: URL, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outURL = folder.appendingPathComponent("out"), errURL = folder.appendingPathComponent("err")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = tool
    process.arguments = arguments
    process.standardOutput = out
    process.standardError = err
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return (process.terminationStatus, try String(contentsOf: outURL, encoding: .utf8),
            try String(contentsOf: errURL, encoding: .utf8))
}

/// Whether `python3 -c 'import h5py'` succeeds here (CI may lack h5py).
private let h5pyAvailable: Bool = {
    guard let python = executable("python3") else { return false }
    return (try? run(python, ["-c", "import h5py"]).status) == 0
}()

// MARK: - Round trips

@Suite("HDF5 datasets")
struct HDF5DatasetTests {
    static let shapes: [[Int]] = [[6], [2, 3], [3, 2], [1, 2, 3], [6, 1], [], [0], [0, 3], [3, 0], [2, 0, 4]]

    @Test("numeric round trip", arguments: ElementCase.allCases, [nil, 0, 6] as [Int?])
    func numericRoundTrip(element: ElementCase, compression: Int?) throws {
        try withScratchFile { url in
            try element.withValues { try $0.roundTrip(in: url, shapes: Self.shapes, compression: compression) }
        }
    }

    @Test("reads convert from the stored numeric type")
    func conversions() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.write([Int32(-3), 0, 7], shape: [3], at: "i32")
            try file.write([Float(1.5), -2.25], shape: [2], at: "f32")
            try file.write([Int64(1) << 40], shape: [1], at: "big")
            try file.write([UInt8(255)], shape: [1], at: "u8")
            #expect(try file.read(Double.self, at: "i32").values == [-3, 0, 7])
            #expect(try file.read(Int.self, at: "i32").values == [-3, 0, 7])
            #expect(try file.read(Double.self, at: "f32").values == [1.5, -2.25])
            #expect(try file.read(Float.self, at: "big").values == [Float(1 << 40)])
            #expect(try file.read(Int8.self, at: "big").values == [Int8.max], "narrowing clips")
            #expect(try file.read(Int32.self, at: "u8").values == [255])
        }
    }

    @Test("bool round trip", arguments: [nil, 4] as [Int?])
    func bools(compression: Int?) throws {
        let cases: [(values: [Bool], shape: [Int])] = [
            ([true, false, false, true, true, false, true], [7]),
            ([true, true, false, false, true, false], [2, 3]),
            ([true], []),
            ([], [0]),
            ([], [0, 4]),
        ]
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            for (index, item) in cases.enumerated() {
                try file.writeBools(item.values, shape: item.shape, at: "mask/\(index)", compression: compression)
            }
            try file.write([Int8(0), 2, -1], shape: [3], at: "ints")
            file.close()
            let reopened = try HDF5File.open(url)
            for (index, item) in cases.enumerated() {
                let (values, shape) = try reopened.readBools(at: "mask/\(index)")
                #expect(values == item.values && shape == item.shape, "case \(index): shape \(item.shape)")
            }
            #expect(try reopened.readBools(at: "ints").values == [false, true, true], "integers: nonzero is true")
        }
    }

    @Test("string round trip")
    func strings() throws {
        let values = ["", "hello", "ünïcødé ✓ 😀", "with/slash and \"quotes\"", String(repeating: "long ", count: 4_000)]
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.writeStrings(values, at: "tokens")
            try file.writeStrings([], at: "empty")
            try file.writeStrings(["a", "b", "c", "d", "e", "f"], shape: [2, 3], at: "grid")
            file.close()
            let reopened = try HDF5File.open(url)
            #expect(try reopened.readStrings(at: "tokens") == values)
            #expect(try reopened.shape(of: "tokens") == [values.count])
            #expect(try reopened.readStrings(at: "empty") == [])
            #expect(try reopened.shape(of: "empty") == [0])
            #expect(try reopened.readStrings(at: "grid") == ["a", "b", "c", "d", "e", "f"])
            #expect(try reopened.shape(of: "grid") == [2, 3])
        }
    }

    @Test("compressed datasets are smaller and read back identically")
    func compressionShrinks() throws {
        try withScratchFile { url in
            let zeros = [Float](repeating: 0, count: 1 << 18)  // 1 MiB
            let file = try HDF5File.create(url)
            try file.write(zeros, shape: [512, 512], at: "zeros", compression: 9)
            file.close()
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? .max
            #expect(size < 100_000, "1 MiB of zeros deflated to \(size) bytes")
            #expect(try HDF5File.open(url).read(Float.self, at: "zeros").values == zeros)
        }
    }
}

// MARK: - Attributes

@Suite("HDF5 attributes")
struct HDF5AttributeTests {
    @Test("attribute round trip", arguments: ["/", "group/sub", "data/x"])
    func roundTrip(location: String) throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            if location.hasPrefix("data") {
                try file.write([1.0, 2.0], shape: [2], at: location)
            } else {
                try file.createGroup(location)
            }
            try file.setAttribute("threshold", 0.8, at: location)
            try file.setAttribute("count", 42, at: location)
            try file.setAttribute("model", "gemma-2-2b ✓", at: location)
            try file.setAttribute("empty", "", at: location)
            try file.setAttribute("scores", [0.5, -1.25, 3], at: location)
            try file.setAttribute("layers", [0, 5, 25], at: location)
            try file.setAttribute("none", [Double](), at: location)
            try file.setAttribute("names", ["a", "β"], at: location)
            try file.setAttribute("pruned", true, at: location)
            try file.setAttribute("small", Int8(-7), at: location)
            file.close()

            let reopened = try HDF5File.open(url)
            #expect(try reopened.attribute("threshold", as: Double.self, at: location) == 0.8)
            #expect(try reopened.attribute("count", as: Int.self, at: location) == 42)
            #expect(try reopened.attribute("count", as: Double.self, at: location) == 42, "converts")
            #expect(try reopened.stringAttribute("model", at: location) == "gemma-2-2b ✓")
            #expect(try reopened.stringAttribute("empty", at: location) == "")
            #expect(try reopened.attributeArray("scores", as: Double.self, at: location) == [0.5, -1.25, 3])
            #expect(try reopened.attributeArray("layers", as: Int.self, at: location) == [0, 5, 25])
            #expect(try reopened.attributeArray("none", as: Double.self, at: location) == [])
            #expect(try reopened.stringArrayAttribute("names", at: location) == ["a", "β"])
            #expect(try reopened.boolAttribute("pruned", at: location))
            #expect(try reopened.attribute("small", as: Int8.self, at: location) == -7)
            #expect(try reopened.attributeNames(at: location)
                    == ["count", "empty", "layers", "model", "names", "none", "pruned", "scores", "small", "threshold"])
            #expect(reopened.hasAttribute("model", at: location))
            #expect(!reopened.hasAttribute("missing", at: location))
            #expect(!reopened.hasAttribute("model", at: "nowhere"))
        }
    }

    @Test("setting an attribute again replaces it, even with another type")
    func overwrite() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.setAttribute("x", 1)
            try file.setAttribute("x", "now a string")
            #expect(try file.stringAttribute("x") == "now a string")
            try file.setAttribute("x", [1.5, 2.5])
            #expect(try file.attributeArray("x", as: Double.self) == [1.5, 2.5])
        }
    }

    @Test("attribute errors name the attribute")
    func errors() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.setAttribute("scores", [1.0, 2.0])
            try file.setAttribute("name", "x")
            let missing = hdf5Error { _ = try file.attribute("nope", as: Double.self) }
            #expect(missing?.kind == .notFound)
            #expect(missing?.object == "/@nope")
            #expect(hdf5Error { _ = try file.attribute("scores", as: Double.self) }?.kind == .shapeMismatch)
            #expect(hdf5Error { _ = try file.attribute("name", as: Double.self) }?.kind == .typeMismatch)
            #expect(hdf5Error { _ = try file.stringAttribute("scores") }?.kind == .typeMismatch)
            #expect(hdf5Error { try file.setAttribute("x", 1, at: "no/such/group") }?.kind == .notFound)
            #expect(hdf5Error { try file.setAttribute("bad", "nul\u{0}inside") }?.kind == .invalidArgument)
        }
    }
}

// MARK: - Groups

@Suite("HDF5 groups")
struct HDF5GroupTests {
    @Test("nested groups, existence and listing")
    func nested() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.write([1, 2, 3], shape: [3], at: "a/b/c/d")
            try file.createGroup("a/x")
            try file.createGroup("/z/")
            try file.createGroup("a/b")  // already a group: nothing happens
            try file.write([Float(1)], shape: [1], at: "/top")

            #expect(try file.children(of: "/") == ["a", "top", "z"])
            #expect(try file.children() == ["a", "top", "z"])
            #expect(try file.children(of: "a") == ["b", "x"])
            #expect(try file.children(of: "a/b/c") == ["d"])
            #expect(try file.children(of: "z") == [])
            for path in ["/", "a", "/a/b", "a/b/c/d", "a//b/c/", "top", "z"] {
                #expect(file.exists(path), "\(path)")
            }
            for path in ["q", "a/q", "a/b/c/d/e", "top/x", "a/b/c/q/r"] {
                #expect(!file.exists(path), "\(path)")
            }
            #expect(hdf5Error { try file.createGroup("a/b/c/d") }?.kind == .alreadyExists)
            #expect(hdf5Error { _ = try file.children(of: "nowhere") }?.kind == .notFound)
            #expect(hdf5Error { _ = try file.children(of: "top") }?.kind == .library)
        }
    }
}

// MARK: - Appendable datasets

@Suite("HDF5 appendable datasets")
struct HDF5ExtendableTests {
    @Test("append rows across reopenings", arguments: [nil, 3] as [Int?])
    func append(compression: Int?) throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.createExtendable(Float.self, at: "table/scores", rowShape: [3], chunkRows: 2, compression: compression)
            try file.createExtendable(Int.self, at: "table/ids", compression: compression)
            try file.createExtendableBools(at: "table/kept")
            try file.createExtendableStrings(at: "table/prompt")
            #expect(try file.shape(of: "table/scores") == [0, 3])
            #expect(try file.read(Float.self, at: "table/scores").values == [])

            try file.append([Float(1), 2, 3, 4, 5, 6], at: "table/scores")
            try file.append([Float](), at: "table/scores")
            try file.append([Double(7), 8, 9], at: "table/scores")  // converted to the stored float32
            try file.append([10, 11], at: "table/ids")
            try file.appendBools([true, false], at: "table/kept")
            try file.appendStrings(["first", "second"], at: "table/prompt")
            try file.flush()
            #expect(hdf5Error { try file.append([Float(1), 2], at: "table/scores") }?.kind == .shapeMismatch)
            #expect(try file.shape(of: "table/scores") == [3, 3], "a rejected append leaves the table as it was")
            file.close()

            let reopened = try HDF5File.open(url, writable: true)
            try reopened.append([Float(10), 11, 12], at: "table/scores")
            try reopened.append([12], at: "table/ids")
            try reopened.appendBools([true], at: "table/kept")
            try reopened.appendStrings(["third ✓"], at: "table/prompt")
            let (scores, shape) = try reopened.read(Float.self, at: "table/scores")
            #expect(shape == [4, 3])
            #expect(scores == (1...12).map(Float.init))
            #expect(try reopened.read(Int.self, at: "table/ids") == ([10, 11, 12], [3]))
            #expect(try reopened.readBools(at: "table/kept").values == [true, false, true])
            #expect(try reopened.readStrings(at: "table/prompt") == ["first", "second", "third ✓"])
        }
    }

    @Test("append errors")
    func errors() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.write([1.0], shape: [1], at: "fixed")
            try file.createExtendable(Double.self, at: "numbers")
            #expect(hdf5Error { try file.append([2.0], at: "fixed") }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.appendStrings(["x"], at: "numbers") }?.kind == .typeMismatch)
            #expect(hdf5Error { try file.append([1.0], at: "missing") }?.kind == .notFound)
            #expect(hdf5Error { try file.createExtendable(Double.self, at: "bad", chunkRows: 0) }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.createExtendable(Double.self, at: "bad", rowShape: [0]) }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.createExtendable(Double.self, at: "numbers") }?.kind == .alreadyExists)
        }
    }

    @Test("concurrent appends from many threads all land")
    func concurrentAppends() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.createExtendable(Int32.self, at: "rows", rowShape: [2], chunkRows: 16)
            let writers = 8, rowsEach = 50
            DispatchQueue.concurrentPerform(iterations: writers) { writer in
                for row in 0..<rowsEach {
                    try! file.append([Int32(writer), Int32(row)], at: "rows")
                }
            }
            let (values, shape) = try file.read(Int32.self, at: "rows")
            #expect(shape == [writers * rowsEach, 2])
            let pairs = Set(stride(from: 0, to: values.count, by: 2).map { "\(values[$0]),\(values[$0 + 1])" })
            #expect(pairs.count == writers * rowsEach)
        }
    }
}

// MARK: - Errors

@Suite("HDF5 errors")
struct HDF5ErrorTests {
    @Test("opening a missing file names the file")
    func missingFile() throws {
        try withScratchFile { url in
            let error = hdf5Error { _ = try HDF5File.open(url) }
            #expect(error?.kind == .notFound)
            #expect(error?.description.contains(url.path) == true, "\(String(describing: error))")
        }
    }

    @Test("opening a file that is not HDF5 carries HDF5's explanation")
    func notHDF5() throws {
        try withScratchFile { url in
            try Data("not hdf5".utf8).write(to: url)
            let error = hdf5Error { _ = try HDF5File.open(url) }
            #expect(error?.kind == .library)
            #expect(error?.stack.isEmpty == false)
            #expect(error?.description.contains(url.path) == true, "\(String(describing: error))")
        }
    }

    @Test("creating a file in a missing folder names the file")
    func createInMissingFolder() throws {
        try withScratchFile { url in
            let target = url.deletingLastPathComponent().appendingPathComponent("missing/x.h5")
            let error = hdf5Error { _ = try HDF5File.create(target) }
            #expect(error?.kind == .library)
            #expect(error?.description.contains(target.path) == true, "\(String(describing: error))")
        }
    }

    @Test("reading a missing dataset names the dataset and the file")
    func missingDataset() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.write([1.0], shape: [1], at: "prune/present")
            for path in ["prune/node_mask", "nothing/here"] {
                let error = hdf5Error { _ = try file.read(Float.self, at: path) }
                #expect(error?.kind == .notFound)
                #expect(error?.object == "/" + path)
                #expect(error?.description.contains("/" + path) == true, "\(String(describing: error))")
                #expect(error?.description.contains(url.path) == true, "\(String(describing: error))")
            }
            #expect(hdf5Error { _ = try file.shape(of: "prune/node_mask") }?.kind == .notFound)
            #expect(hdf5Error { _ = try file.readStrings(at: "prune/node_mask") }?.kind == .notFound)
        }
    }

    @Test("misuse is reported before HDF5 is called")
    func misuse() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            let mismatch = hdf5Error { try file.write([1, 2, 3, 4, 5], shape: [2, 3], at: "x") }
            #expect(mismatch?.kind == .shapeMismatch)
            #expect(mismatch?.description.contains("[2, 3]") == true, "\(String(describing: mismatch))")
            #expect(!file.exists("x"), "a rejected write creates nothing")
            #expect(hdf5Error { try file.write([1], shape: [-1], at: "x") }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.writeBools([true], shape: [2], at: "x") }?.kind == .shapeMismatch)
            #expect(hdf5Error { try file.write([1.0], shape: [1], at: "x", compression: 12) }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.write([1.0], shape: [1], at: "/") }?.kind == .invalidArgument)
            #expect(hdf5Error { try file.writeStrings(["a\u{0}b"], at: "s") }?.kind == .invalidArgument)

            try file.write([1.0], shape: [1], at: "x")
            #expect(hdf5Error { try file.write([2.0], shape: [1], at: "x") }?.kind == .alreadyExists)
            try file.writeStrings(["s"], at: "s")
            try file.writeBools([true], shape: [1], at: "b")
            #expect(hdf5Error { _ = try file.read(Double.self, at: "s") }?.kind == .typeMismatch)
            #expect(hdf5Error { _ = try file.read(Int8.self, at: "b") }?.kind == .typeMismatch)
            #expect(hdf5Error { _ = try file.readStrings(at: "x") }?.kind == .typeMismatch)
            #expect(hdf5Error { _ = try file.readBools(at: "x") }?.kind == .typeMismatch)
        }
    }

    @Test("HDF5 failures carry the error stack")
    func libraryFailure() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.createGroup("group")
            let error = hdf5Error { _ = try file.read(Double.self, at: "group") }
            #expect(error?.kind == .library)
            #expect(error?.stack.isEmpty == false)
            #expect(error?.description.contains("H5Dopen2") == true, "\(String(describing: error))")
        }
    }

    @Test("close is idempotent and later calls fail cleanly")
    func closed() throws {
        try withScratchFile { url in
            let file = try HDF5File.create(url)
            try file.write([1.0], shape: [1], at: "x")
            file.close()
            file.close()
            #expect(file.isClosed)
            #expect(hdf5Error { _ = try file.read(Double.self, at: "x") }?.kind == .closed)
            #expect(hdf5Error { try file.flush() }?.kind == .closed)
            #expect(!file.exists("x"))
            #expect(try HDF5File.open(url).read(Double.self, at: "x").values == [1.0])
        }
    }
}

// MARK: - Interoperability

@Suite("HDF5 files read by other tools")
struct HDF5InteropTests {
    /// Writes one file with every kind of dataset and attribute the wrapper makes.
    static func writeSample(_ url: URL) throws {
        let file = try HDF5File.create(url)
        try file.write([Float(1.5), -2, 3, 4, 5, 6], shape: [2, 3], at: "graph/adjacency", compression: 4)
        try file.write([Int32(7), 8], shape: [2], at: "graph/ids")
        try file.write([Int](), shape: [0, 3], at: "graph/empty")
        try file.writeBools([true, false, true], shape: [3], at: "prune/node_mask")
        try file.writeStrings(["héllo", "", "wörld ✓"], at: "tokens")
        try file.createExtendable(Double.self, at: "table", rowShape: [3], chunkRows: 4, compression: 1)
        try file.append([1.0, 2, 3, 4, 5, 6], at: "table")
        try file.setAttribute("model", "gemma ✓")
        try file.setAttribute("threshold", 0.8)
        try file.setAttribute("count", 42)
        try file.setAttribute("layers", [1, 2, 3])
        try file.setAttribute("scores", [0.5, 0.25])
        try file.setAttribute("pruned", true)
        try file.setAttribute("names", ["a", "β"])
        try file.setAttribute("unit", "logits", at: "graph/adjacency")
        file.close()
    }

    @Test("h5dump reads the file and sees h5py-compatible types")
    func h5dump() throws {
        let tool = try #require(executable("h5dump"), "h5dump not found on PATH: install hdf5-tools (apt-get install hdf5-tools)")
        try withScratchFile { url in
            try Self.writeSample(url)
            let header = try run(tool, ["-H", "-p", url.path])
            #expect(header.status == 0, "h5dump -H failed: \(header.errors)")
            for expected in [
                "DATASET \"adjacency\"", "H5T_IEEE_F32LE", "DATASPACE  SIMPLE { ( 2, 3 ) / ( 2, 3 ) }",
                "COMPRESSION DEFLATE { LEVEL 4 }", "H5T_STD_I32LE", "DATASPACE  SIMPLE { ( 0, 3 ) / ( 0, 3 ) }",
                "H5T_ENUM {", "H5T_STD_I8LE;", "\"FALSE\"            0;", "\"TRUE\"             1;",
                "STRSIZE H5T_VARIABLE;", "CSET H5T_CSET_UTF8;",
                "DATASPACE  SIMPLE { ( 2, 3 ) / ( H5S_UNLIMITED, 3 ) }",
                "ATTRIBUTE \"model\"", "ATTRIBUTE \"threshold\"", "ATTRIBUTE \"unit\"",
            ] {
                #expect(header.output.contains(expected), "h5dump -H output lacks \(expected):\n\(header.output)")
            }
            // h5dump 1.10 prints non-ASCII bytes as (sign-extended) octal escapes: UTF-8 text
            // is checked through h5py instead.
            let values = try run(tool, ["-d", "/graph/adjacency", "-d", "/prune/node_mask", url.path])
            #expect(values.status == 0, "h5dump -d failed: \(values.errors)")
            for expected in ["(0,0): 1.5, -2, 3,", "(1,0): 4, 5, 6", "(0): TRUE, FALSE, TRUE", "(0): \"logits\""] {
                #expect(values.output.contains(expected), "h5dump output lacks \(expected):\n\(values.output)")
            }
        }
    }

    /// What the python script reports per dataset or attribute.
    struct PyObject: Decodable {
        let kind: String
        let shape: [Int]
        let numbers: [Double]?
        let strings: [String]?
    }

    static let script = """
    import sys, json, h5py, numpy as np
    def describe(value, kind):
        arr = np.asarray(value)
        flat = arr.reshape(-1).tolist()
        if all(isinstance(x, str) for x in flat) and flat:
            return {"kind": kind, "shape": list(arr.shape), "strings": flat}
        return {"kind": kind, "shape": list(arr.shape), "numbers": [float(x) for x in flat]}
    out = {}
    with h5py.File(sys.argv[1], "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                info = h5py.check_string_dtype(obj.dtype)
                value = obj.asstr()[()] if info is not None else obj[()]
                kind = "str:" + info.encoding if info is not None else str(obj.dtype)
                out[name] = describe(value, kind)
        f.visititems(visit)
        for name, value in f.attrs.items():
            out["@" + name] = describe(value, type(value).__name__)
        out["graph/adjacency@unit"] = describe(f["graph/adjacency"].attrs["unit"], type(f["graph/adjacency"].attrs["unit"]).__name__)
    print(json.dumps(out))
    """

    @Test("h5py reads values and dtypes", .enabled(if: h5pyAvailable, "python3 with h5py is not installed"))
    func h5py() throws {
        let python = try #require(executable("python3"))
        try withScratchFile { url in
            try Self.writeSample(url)
            let result = try run(python, ["-c", Self.script, url.path])
            try #require(result.status == 0, "python3/h5py failed: \(result.errors)")
            let objects = try JSONDecoder().decode([String: PyObject].self, from: Data(result.output.utf8))
            func check(_ name: String, kind: String, shape: [Int], numbers: [Double]? = nil, strings: [String]? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) {
                guard let object = objects[name] else {
                    Issue.record("h5py does not see \(name): \(result.output)", sourceLocation: sourceLocation)
                    return
                }
                #expect(object.kind.hasPrefix(kind), "\(name): kind \(object.kind)", sourceLocation: sourceLocation)
                #expect(object.shape == shape, "\(name)", sourceLocation: sourceLocation)
                if let numbers { #expect(object.numbers == numbers, "\(name)", sourceLocation: sourceLocation) }
                if let strings { #expect(object.strings == strings, "\(name)", sourceLocation: sourceLocation) }
            }
            check("graph/adjacency", kind: "float32", shape: [2, 3], numbers: [1.5, -2, 3, 4, 5, 6])
            check("graph/ids", kind: "int32", shape: [2], numbers: [7, 8])
            check("graph/empty", kind: "int64", shape: [0, 3], numbers: [])
            check("prune/node_mask", kind: "bool", shape: [3], numbers: [1, 0, 1])
            check("tokens", kind: "str:utf-8", shape: [3], strings: ["héllo", "", "wörld ✓"])
            check("table", kind: "float64", shape: [2, 3], numbers: [1, 2, 3, 4, 5, 6])
            check("@model", kind: "str", shape: [], strings: ["gemma ✓"])
            check("@threshold", kind: "float64", shape: [], numbers: [0.8])
            check("@count", kind: "int64", shape: [], numbers: [42])
            check("@layers", kind: "ndarray", shape: [3], numbers: [1, 2, 3])
            check("@scores", kind: "ndarray", shape: [2], numbers: [0.5, 0.25])
            check("@pruned", kind: "bool", shape: [], numbers: [1])
            check("@names", kind: "ndarray", shape: [2], strings: ["a", "β"])
            check("graph/adjacency@unit", kind: "str", shape: [], strings: ["logits"])
        }
    }

    @Test("files h5py writes read back", .enabled(if: h5pyAvailable, "python3 with h5py is not installed"))
    func readsH5py() throws {
        let python = try #require(executable("python3"))
        let script = """
        import sys, h5py, numpy as np
        with h5py.File(sys.argv[1], "w") as f:
            f["mask"] = np.array([[True, False], [False, True]])
            f["half"] = np.array([1.5, -2.0], dtype=np.float16)
            f["short"] = np.array([-3, 300], dtype=np.int16)
            f["fixed"] = np.array([b"ab", b"", b"cde"], dtype="S3")
            f.create_dataset("text", data=["héllo", "wörld"], dtype=h5py.string_dtype())
            f.create_dataset("gz", data=np.arange(12, dtype=np.int64).reshape(3, 4), compression="gzip")
            f.create_dataset("table", shape=(0, 2), maxshape=(None, 2), dtype=np.float32, chunks=(8, 2))
            f.attrs["name"] = "gemma ✓"
            f.attrs["bytes"] = np.bytes_(b"raw")
            f.attrs["flag"] = np.bool_(True)
            f.attrs["eps"] = 1e-6
            f.attrs["n"] = np.int32(7)
        """
        try withScratchFile { url in
            let result = try run(python, ["-c", script, url.path])
            try #require(result.status == 0, "python3/h5py failed: \(result.errors)")
            let file = try HDF5File.open(url, writable: true)
            #expect(try file.readBools(at: "mask") == ([true, false, false, true], [2, 2]))
            #expect(try file.read(Float.self, at: "half").values == [1.5, -2])
            #expect(try file.read(Int.self, at: "short").values == [-3, 300])
            #expect(try file.readStrings(at: "fixed") == ["ab", "", "cde"])
            #expect(try file.readStrings(at: "text") == ["héllo", "wörld"])
            #expect(try file.read(Int.self, at: "gz") == (Array(0..<12), [3, 4]))
            try file.append([Float(1), 2], at: "table")
            #expect(try file.read(Float.self, at: "table") == ([1, 2], [1, 2]))
            #expect(try file.stringAttribute("name") == "gemma ✓")
            #expect(try file.stringAttribute("bytes") == "raw")
            #expect(try file.boolAttribute("flag"))
            #expect(try file.attribute("eps", as: Double.self) == 1e-6)
            #expect(try file.attribute("n", as: Int.self) == 7)
        }
    }
}
