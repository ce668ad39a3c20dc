// Whole-dataset writes and reads: numbers (`HDF5Element`), bools (h5py's enum) and UTF-8
// strings. Every write creates a new dataset; shapes are row-major (C order), as in numpy.
import CHDF5

extension HDF5File {
    /// Writes `values` as a new dataset of `shape` at `path`, creating intermediate groups.
    ///
    /// - Parameters:
    ///   - values: the elements in row-major order; `values.count` must equal the product of
    ///     `shape` (`[]` is a scalar: one value; a zero dimension means no values).
    ///   - shape: the dataset's dimensions.
    ///   - path: where to create the dataset; nothing may exist there yet.
    ///   - compression: deflate level 0...9; the dataset is then chunked automatically (chunks
    ///     of at most 1 MiB). Ignored for scalars and empty datasets, which cannot be chunked.
    /// - Throws: `HDF5Error` (`.shapeMismatch`, `.alreadyExists`, `.invalidArgument`,
    ///   `.library`).
    public func write<T: HDF5Element>(_ values: [T], shape: [Int], at path: String,
                                      compression: Int? = nil) throws {
        try withFile("write dataset", object: path) { file, site in
            _ = try HDF5Shape.checkedCount(shape, holding: values.count, at: site)
            let element = T.hdf5Type
            try values.withUnsafeBytes { bytes in
                try Self.createAndWrite(file, path, shape: shape, compression: compression,
                                        elementSize: element.size, fileType: element.fileType,
                                        memoryType: element.memoryType, data: bytes.baseAddress, site)
            }
        }
    }

    /// Writes `values` as a new bool dataset, stored exactly as h5py stores numpy `bool`: an
    /// HDF5 enum over int8 with FALSE = 0, TRUE = 1. Parameters as in `write(_:shape:at:compression:)`.
    public func writeBools(_ values: [Bool], shape: [Int], at path: String, compression: Int? = nil) throws {
        try withFile("write dataset", object: path) { file, site in
            _ = try HDF5Shape.checkedCount(shape, holding: values.count, at: site)
            let type = try HDF5Types.bool(at: site)
            let bytes = values.map { $0 ? Int8(1) : Int8(0) }
            try bytes.withUnsafeBytes { raw in
                try Self.createAndWrite(file, path, shape: shape, compression: compression, elementSize: 1,
                                        fileType: type.id, memoryType: type.id, data: raw.baseAddress, site)
            }
        }
    }

    /// Writes `values` as a new dataset of variable-length UTF-8 strings (h5py reads the
    /// elements as `bytes`; `dataset.asstr()` decodes them to `str`).
    ///
    /// - Parameters:
    ///   - shape: the dataset's dimensions; nil (the default) for a 1-D `[values.count]`.
    /// - Throws: `HDF5Error` (`.invalidArgument` if a string contains NUL; others as `write`).
    public func writeStrings(_ values: [String], shape: [Int]? = nil, at path: String) throws {
        try withFile("write dataset", object: path) { file, site in
            let shape = shape ?? [values.count]
            _ = try HDF5Shape.checkedCount(shape, holding: values.count, at: site)
            let type = try HDF5Types.variableString(at: site)
            try HDF5Strings.withCStrings(values, at: site) { pointers in
                try Self.createAndWrite(file, path, shape: shape, compression: nil,
                                        elementSize: MemoryLayout<UnsafeRawPointer>.size,
                                        fileType: type.id, memoryType: type.id, data: pointers, site)
            }
        }
    }

    /// Reads the whole numeric dataset at `path`, converting from its stored numeric type
    /// (an `int32` dataset reads as `Double`; narrowing conversions clip).
    ///
    /// - Returns: the elements in row-major order and the dataset's shape.
    /// - Throws: `HDF5Error` (`.notFound`; `.typeMismatch` if it holds bools or strings).
    public func read<T: HDF5Element>(_ type: T.Type = T.self, at path: String) throws -> (values: [T], shape: [Int]) {
        try withFile("read dataset", object: path) { file, site in
            let dataset = try Self.openDataset(file, path, site)
            let stored = try site.own(H5Dget_type(dataset.id), "H5Dget_type", close: H5Tclose)
            let storedClass = H5Tget_class(stored.id)
            guard storedClass == H5T_INTEGER || storedClass == H5T_FLOAT else {
                throw site.error(.typeMismatch, "stored as \(HDF5Types.describe(stored.id)), not numbers"
                                 + " (use readBools or readStrings)")
            }
            let shape = try Self.datasetShape(dataset.id, site)
            let count = shape.reduce(1, *)
            let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 {
                    try site.check(H5Dread(dataset.id, T.hdf5Type.memoryType, chdf5_s_all(), chdf5_s_all(),
                                           chdf5_default(), buffer.baseAddress), "H5Dread")
                }
                initialized = count
            }
            return (values, shape)
        }
    }

    /// Reads the whole bool dataset at `path`: h5py's bool enum, or any integer dataset
    /// (nonzero is true).
    ///
    /// - Throws: `HDF5Error` (`.notFound`; `.typeMismatch` for floats or strings).
    public func readBools(at path: String) throws -> (values: [Bool], shape: [Int]) {
        try withFile("read dataset", object: path) { file, site in
            let dataset = try Self.openDataset(file, path, site)
            let stored = try site.own(H5Dget_type(dataset.id), "H5Dget_type", close: H5Tclose)
            let storedClass = H5Tget_class(stored.id)
            guard storedClass == H5T_ENUM || storedClass == H5T_INTEGER else {
                throw site.error(.typeMismatch, "stored as \(HDF5Types.describe(stored.id)), not bools")
            }
            // Enums convert by member name (FALSE, TRUE); int → int8 clips, so nonzero stays nonzero.
            let boolType = try HDF5Types.bool(at: site)
            let shape = try Self.datasetShape(dataset.id, site)
            var bytes = [Int8](repeating: 0, count: shape.reduce(1, *))
            if !bytes.isEmpty {
                try bytes.withUnsafeMutableBytes { raw in
                    let memoryType = storedClass == H5T_ENUM ? boolType.id : chdf5_native_int8()
                    try site.check(H5Dread(dataset.id, memoryType, chdf5_s_all(), chdf5_s_all(),
                                           chdf5_default(), raw.baseAddress), "H5Dread")
                }
            }
            return (bytes.map { $0 != 0 }, shape)
        }
    }

    /// Reads the whole string dataset at `path` (variable- or fixed-length), in row-major
    /// order. Invalid UTF-8 is repaired with U+FFFD.
    ///
    /// - Throws: `HDF5Error` (`.notFound`; `.typeMismatch` if it does not hold strings).
    public func readStrings(at path: String) throws -> [String] {
        try withFile("read dataset", object: path) { file, site in
            let dataset = try Self.openDataset(file, path, site)
            let stored = try site.own(H5Dget_type(dataset.id), "H5Dget_type", close: H5Tclose)
            let count = try Self.datasetShape(dataset.id, site).reduce(1, *)
            return try HDF5Strings.read(count: count, storedAs: stored.id, at: site) { buffer in
                H5Dread(dataset.id, stored.id, chdf5_s_all(), chdf5_s_all(), chdf5_default(), buffer)
            }
        }
    }

    // Internal helpers: called with the lock held, from inside `withFile`.

    /// The current shape of an open dataset.
    static func datasetShape(_ dataset: hid_t, _ site: HDF5Site) throws -> [Int] {
        let space = try site.own(H5Dget_space(dataset), "H5Dget_space", close: H5Sclose)
        return try HDF5Shape.dimensions(of: space.id, at: site)
    }

    /// Creates the dataset at `path` (`fileType`, `shape`, optionally deflated) and writes
    /// `data` (laid out as `memoryType`, one element per entry of `shape`) into it. If the
    /// write fails the new dataset is unlinked again, so a retry can use the same path.
    static func createAndWrite(_ file: hid_t, _ path: String, shape: [Int], compression: Int?, elementSize: Int,
                               fileType: hid_t, memoryType: hid_t, data: UnsafeRawPointer?,
                               _ site: HDF5Site) throws {
        let chunk = compression == nil ? nil : HDF5Shape.guessChunk(shape, elementSize: elementSize)
        let dataset = try createDataset(file, path, type: fileType, shape: shape, maxShape: nil,
                                        chunk: chunk, compression: compression, site)
        guard shape.reduce(1, *) > 0 else { return }
        if H5Dwrite(dataset.id, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_default(), data) < 0 {
            let error = site.error(.library, "H5Dwrite failed")
            H5Ldelete(file, HDF5Path.absolute(path), chdf5_default())
            HDF5ErrorStack.clear()
            throw error
        }
    }

    /// Creates an empty dataset at `path` with intermediate groups. `maxShape` entries that
    /// are nil are unlimited (requires `chunk`); `compression` applies only with `chunk`.
    static func createDataset(_ file: hid_t, _ path: String, type: hid_t, shape: [Int], maxShape: [Int?]?,
                              chunk: [Int]?, compression: Int?, _ site: HDF5Site) throws -> HDF5Handle {
        guard !HDF5Path.components(path).isEmpty else {
            throw site.error(.invalidArgument, "a dataset needs a name; the root group is not one")
        }
        if let compression, !(0...9).contains(compression) {
            throw site.error(.invalidArgument, "deflate level \(compression) is not in 0...9")
        }
        guard !linkExists(file, path) else {
            throw site.error(.alreadyExists, "an object already exists at this path")
        }
        let creation = try site.own(H5Pcreate(chdf5_p_dataset_create()), "H5Pcreate", close: H5Pclose)
        if let chunk {
            let dims = chunk.map { hsize_t($0) }
            try site.check(H5Pset_chunk(creation.id, Int32(dims.count), dims), "H5Pset_chunk")
            if let compression {
                try site.check(H5Pset_deflate(creation.id, UInt32(compression)), "H5Pset_deflate")
            }
        }
        let space = try HDF5Shape.dataspace(shape, maxShape: maxShape, at: site)
        let links = try intermediateGroupLinkList(site)
        return try site.own(H5Dcreate2(file, HDF5Path.absolute(path), type, space.id, links.id, creation.id,
                                       chdf5_default()), "H5Dcreate2", close: H5Dclose)
    }
}
