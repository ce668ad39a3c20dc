// Appendable datasets: tables that grow one batch of rows at a time (per-prompt results).
// Shape [rows, rowShape...] with an unlimited first dimension, chunked along it, optionally
// deflated. Each append extends the dataset and writes the new rows into the extension.
import CHDF5

extension HDF5File {
    /// Creates an empty numeric dataset at `path` that `append(_:at:)` grows.
    ///
    /// - Parameters:
    ///   - rowShape: the shape of one row: `[]` for a 1-D column, `[3]` for rows of 3.
    ///     Every dimension must be positive.
    ///   - chunkRows: rows per chunk (HDF5 reads and writes whole chunks; aim for chunks of
    ///     tens of KiB to a few MiB).
    ///   - compression: deflate level 0...9, or nil for none.
    /// - Throws: `HDF5Error` (`.invalidArgument`, `.alreadyExists`, `.library`).
    public func createExtendable<T: HDF5Element>(_ type: T.Type, at path: String, rowShape: [Int] = [],
                                                 chunkRows: Int = 1024, compression: Int? = nil) throws {
        try withFile("create extendable dataset", object: path) { file, site in
            try Self.createExtendable(file, path, type: T.hdf5Type.fileType, rowShape: rowShape,
                                      chunkRows: chunkRows, compression: compression, site)
        }
    }

    /// Creates an empty bool dataset (h5py's bool enum) that `appendBools(_:at:)` grows.
    /// Parameters as in `createExtendable(_:at:rowShape:chunkRows:compression:)`.
    public func createExtendableBools(at path: String, rowShape: [Int] = [], chunkRows: Int = 1024,
                                      compression: Int? = nil) throws {
        try withFile("create extendable dataset", object: path) { file, site in
            let type = try HDF5Types.bool(at: site)
            try Self.createExtendable(file, path, type: type.id, rowShape: rowShape,
                                      chunkRows: chunkRows, compression: compression, site)
        }
    }

    /// Creates an empty dataset of variable-length UTF-8 strings that `appendStrings(_:at:)`
    /// grows. Parameters as in `createExtendable(_:at:rowShape:chunkRows:compression:)`.
    public func createExtendableStrings(at path: String, rowShape: [Int] = [], chunkRows: Int = 1024,
                                        compression: Int? = nil) throws {
        try withFile("create extendable dataset", object: path) { file, site in
            let type = try HDF5Types.variableString(at: site)
            try Self.createExtendable(file, path, type: type.id, rowShape: rowShape,
                                      chunkRows: chunkRows, compression: compression, site)
        }
    }

    /// Appends whole rows to a dataset made by `createExtendable`, converting to its stored
    /// numeric type. `values` holds one or more rows in row-major order; empty is a no-op.
    ///
    /// - Throws: `HDF5Error` (`.shapeMismatch` if `values` is not a whole number of rows;
    ///   `.typeMismatch`; `.invalidArgument` if the dataset is not extendable; `.notFound`).
    public func append<T: HDF5Element>(_ values: [T], at path: String) throws {
        try withFile("append to dataset", object: path) { file, site in
            try values.withUnsafeBytes { bytes in
                try Self.appendRows(file, path, count: values.count, kind: .numbers,
                                    memoryType: T.hdf5Type.memoryType, data: bytes.baseAddress, site)
            }
        }
    }

    /// Appends whole rows of bools to a dataset made by `createExtendableBools`.
    public func appendBools(_ values: [Bool], at path: String) throws {
        try withFile("append to dataset", object: path) { file, site in
            let type = try HDF5Types.bool(at: site)
            let bytes = values.map { $0 ? Int8(1) : Int8(0) }
            try bytes.withUnsafeBytes { raw in
                try Self.appendRows(file, path, count: bytes.count, kind: .bools, memoryType: type.id,
                                    data: raw.baseAddress, site)
            }
        }
    }

    /// Appends whole rows of strings to a dataset made by `createExtendableStrings`.
    public func appendStrings(_ values: [String], at path: String) throws {
        try withFile("append to dataset", object: path) { file, site in
            let type = try HDF5Types.variableString(at: site)
            try HDF5Strings.withCStrings(values, at: site) { pointers in
                try Self.appendRows(file, path, count: values.count, kind: .strings, memoryType: type.id,
                                    data: pointers, site)
            }
        }
    }

    // Internal helpers: called with the lock held, from inside `withFile`.

    /// Creates `[0, rowShape...]` with maximum `[unlimited, rowShape...]`, chunked by rows.
    static func createExtendable(_ file: hid_t, _ path: String, type: hid_t, rowShape: [Int], chunkRows: Int,
                                 compression: Int?, _ site: HDF5Site) throws {
        guard chunkRows > 0 else {
            throw site.error(.invalidArgument, "chunkRows must be positive, got \(chunkRows)")
        }
        guard rowShape.allSatisfy({ $0 > 0 }) else {
            throw site.error(.invalidArgument, "row shape \(rowShape) must have positive dimensions")
        }
        _ = try createDataset(file, path, type: type, shape: [0] + rowShape, maxShape: [nil] + rowShape,
                              chunk: [chunkRows] + rowShape, compression: compression, site)
    }

    /// Extends the dataset at `path` by `count / rowSize` rows and writes `data` (`count`
    /// elements laid out as `memoryType`) into them. A failed write shrinks the dataset back.
    static func appendRows(_ file: hid_t, _ path: String, count: Int, kind: HDF5StoredKind, memoryType: hid_t,
                           data: UnsafeRawPointer?, _ site: HDF5Site) throws {
        let dataset = try openDataset(file, path, site)
        let stored = try site.own(H5Dget_type(dataset.id), "H5Dget_type", close: H5Tclose)
        try kind.check(stored.id, site)
        let space = try site.own(H5Dget_space(dataset.id), "H5Dget_space", close: H5Sclose)
        let dims = try HDF5Shape.dimensions(of: space.id, at: site)
        var maxDims = [hsize_t](repeating: 0, count: dims.count)
        if !dims.isEmpty {
            try site.check(H5Sget_simple_extent_dims(space.id, nil, &maxDims), "H5Sget_simple_extent_dims")
        }
        guard let firstMax = maxDims.first, firstMax == chdf5_unlimited() else {
            throw site.error(.invalidArgument, "the dataset is not extendable (create it with createExtendable)")
        }
        let rowShape = Array(dims.dropFirst())
        let rowSize = rowShape.reduce(1, *)
        guard count % rowSize == 0 else {
            throw site.error(.shapeMismatch, "\(count) values are not whole rows of shape \(rowShape)")
        }
        let rows = count / rowSize
        guard rows > 0 else { return }

        let oldDims = dims.map { hsize_t($0) }
        var newDims = oldDims
        newDims[0] += hsize_t(rows)
        try site.check(H5Dset_extent(dataset.id, newDims), "H5Dset_extent")
        do {
            // The file space must be fetched after the extent changed.
            let fileSpace = try site.own(H5Dget_space(dataset.id), "H5Dget_space", close: H5Sclose)
            let start = [hsize_t(dims[0])] + rowShape.map { _ in hsize_t(0) }
            let block = [hsize_t(rows)] + rowShape.map { hsize_t($0) }
            try site.check(H5Sselect_hyperslab(fileSpace.id, H5S_SELECT_SET, start, nil, block, nil),
                           "H5Sselect_hyperslab")
            let memorySpace = try HDF5Shape.dataspace([rows] + rowShape, at: site)
            try site.check(H5Dwrite(dataset.id, memoryType, memorySpace.id, fileSpace.id, chdf5_default(), data),
                           "H5Dwrite")
        } catch {
            H5Dset_extent(dataset.id, oldDims)
            HDF5ErrorStack.clear()
            throw error
        }
    }
}

/// What a dataset holds, as far as the read and append methods care.
enum HDF5StoredKind {
    /// Integers or floats (`HDF5Element`s).
    case numbers
    /// h5py's bool enum.
    case bools
    /// Strings, variable- or fixed-length.
    case strings

    /// Throws `.typeMismatch` at `site` unless `type` holds this kind.
    func check(_ type: hid_t, _ site: HDF5Site) throws {
        let storedClass = H5Tget_class(type)
        let accepted = switch self {
        case .numbers: storedClass == H5T_INTEGER || storedClass == H5T_FLOAT
        case .bools: storedClass == H5T_ENUM
        case .strings: storedClass == H5T_STRING
        }
        guard accepted else {
            throw site.error(.typeMismatch, "stored as \(HDF5Types.describe(type)), not \(self)")
        }
    }
}
