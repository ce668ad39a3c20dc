// Internal building blocks of the HDF5 wrapper: owned ids, paths, shapes, dataspaces, and
// the bool and string types h5py understands.
import CHDF5

/// An HDF5 id this code owns, closed when the handle goes out of scope (also on throws).
struct HDF5Handle: ~Copyable {
    typealias Closer = @convention(c) (hid_t) -> herr_t

    let id: hid_t
    private let close: Closer

    init(_ id: hid_t, close: @escaping Closer) {
        self.id = id
        self.close = close
    }

    deinit { _ = close(id) }
}

/// Object paths inside a file. Callers write `prune/node_mask` or `/prune/node_mask`; HDF5
/// gets the absolute form with empty components (`a//b`, trailing `/`) removed.
enum HDF5Path {
    /// `"prune//node_mask/"` → `["prune", "node_mask"]`.
    static func components(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    /// `"prune/node_mask"` → `"/prune/node_mask"`; `""` and `"/"` → `"/"`.
    static func absolute(_ path: String) -> String {
        "/" + components(path).joined(separator: "/")
    }
}

/// Shapes: `[Int]` in the API, `[hsize_t]` for HDF5. `[]` is a scalar (one element).
enum HDF5Shape {
    /// The number of elements of `shape`, or a `.shapeMismatch`/`.invalidArgument` error at
    /// `site` if `shape` has a negative dimension, overflows, or does not hold `count` values.
    static func checkedCount(_ shape: [Int], holding count: Int, at site: HDF5Site) throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw site.error(.invalidArgument, "shape \(shape) has a negative dimension")
        }
        var product = 1
        for dim in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw site.error(.invalidArgument, "shape \(shape) overflows Int") }
            product = next
        }
        guard product == count else {
            throw site.error(.shapeMismatch,
                             "\(count) values do not fill shape \(shape) (\(product) elements)")
        }
        return product
    }

    /// Chunk dimensions for a compressed dataset of `shape`: the whole dataset, halved along
    /// each dimension in turn until a chunk holds at most `targetBytes` (1 MiB, h5py's upper
    /// bound). Nil when the dataset cannot be chunked (scalar or a zero dimension).
    static func guessChunk(_ shape: [Int], elementSize: Int, targetBytes: Int = 1 << 20) -> [Int]? {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else { return nil }
        var chunk = shape
        var axis = 0
        while chunk.reduce(elementSize, *) > targetBytes, chunk.contains(where: { $0 > 1 }) {
            if chunk[axis] > 1 { chunk[axis] = (chunk[axis] + 1) / 2 }
            axis = (axis + 1) % chunk.count
        }
        return chunk
    }

    /// A simple dataspace of `shape` (a scalar one for `[]`), with `maxShape` when given
    /// (`nil` entries are unlimited).
    static func dataspace(_ shape: [Int], maxShape: [Int?]? = nil, at site: HDF5Site) throws -> HDF5Handle {
        if shape.isEmpty {
            return try site.own(H5Screate(H5S_SCALAR), "H5Screate", close: H5Sclose)
        }
        let dims = shape.map { hsize_t($0) }
        if let maxShape {
            let maxDims = maxShape.map { $0.map { hsize_t($0) } ?? chdf5_unlimited() }
            return try site.own(H5Screate_simple(Int32(dims.count), dims, maxDims), "H5Screate_simple",
                                close: H5Sclose)
        }
        return try site.own(H5Screate_simple(Int32(dims.count), dims, nil), "H5Screate_simple",
                            close: H5Sclose)
    }

    /// The current dimensions of a dataspace (`[]` for a scalar).
    static func dimensions(of space: hid_t, at site: HDF5Site) throws -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw site.error(.library, "H5Sget_simple_extent_ndims failed") }
        guard rank > 0 else { return [] }
        var dims = [hsize_t](repeating: 0, count: rank)
        try site.check(H5Sget_simple_extent_dims(space, &dims, nil), "H5Sget_simple_extent_dims")
        return dims.map { Int($0) }
    }
}

/// The HDF5 types for bools and strings, in the forms h5py writes and reads.
enum HDF5Types {
    /// h5py's bool: an enum over int8 with members FALSE = 0 and TRUE = 1. h5py maps exactly
    /// this type to numpy `bool`; used both in memory (as `Int8` 0/1) and in the file.
    static func bool(at site: HDF5Site) throws -> HDF5Handle {
        let type = try site.own(H5Tenum_create(chdf5_native_int8()), "H5Tenum_create", close: H5Tclose)
        var no: Int8 = 0
        var yes: Int8 = 1
        try site.check(H5Tenum_insert(type.id, "FALSE", &no), "H5Tenum_insert")
        try site.check(H5Tenum_insert(type.id, "TRUE", &yes), "H5Tenum_insert")
        return type
    }

    /// A variable-length, NUL-terminated UTF-8 string (h5py: `str` attributes, `bytes`
    /// dataset elements that `.asstr()` decodes). In memory: one `char *` per element.
    static func variableString(at site: HDF5Site) throws -> HDF5Handle {
        let type = try site.own(H5Tcopy(chdf5_c_s1()), "H5Tcopy", close: H5Tclose)
        try site.check(H5Tset_size(type.id, chdf5_variable()), "H5Tset_size")
        try site.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "H5Tset_cset")
        return type
    }

    /// A short description of a stored type for error messages: `float (4 bytes)`, `enum`.
    static func describe(_ type: hid_t) -> String {
        defer { HDF5ErrorStack.clear() }
        switch H5Tget_class(type) {
        case H5T_INTEGER: return "integer (\(H5Tget_size(type)) bytes)"
        case H5T_FLOAT: return "float (\(H5Tget_size(type)) bytes)"
        case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "variable-length string" : "fixed-length string"
        case H5T_ENUM: return "enum (h5py's bool is one)"
        case H5T_COMPOUND: return "compound"
        case H5T_ARRAY: return "array"
        case H5T_VLEN: return "variable-length sequence"
        default: return "an unsupported type"
        }
    }
}

/// Strings in and out of HDF5 buffers, shared by datasets and attributes.
enum HDF5Strings {
    /// Calls `body` with one NUL-terminated UTF-8 `char *` per value (the memory layout of a
    /// variable-length string type), all pointing into one packed buffer.
    ///
    /// - Throws: `.invalidArgument` at `site` if a value contains NUL (C strings end there).
    static func withCStrings<R>(_ values: [String], at site: HDF5Site,
                                _ body: (UnsafeRawPointer?) throws -> R) throws -> R {
        var packed: [CChar] = []
        var offsets: [Int] = []
        offsets.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard !value.utf8.contains(0) else {
                throw site.error(.invalidArgument, "string \(index) contains a NUL byte, which HDF5 strings cannot hold")
            }
            offsets.append(packed.count)
            packed.append(contentsOf: value.utf8.map { CChar(bitPattern: $0) })
            packed.append(0)
        }
        return try packed.withUnsafeBufferPointer { bytes in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in bytes.baseAddress.map { $0 + offset } }
            return try pointers.withUnsafeBytes { try body($0.baseAddress) }
        }
    }

    /// Reads `count` strings stored as `type` (variable- or fixed-length): `read` fills the
    /// buffer it is given, in the memory layout of `type`. Variable-length strings HDF5
    /// allocated are freed with `H5free_memory`; fixed-length ones end at their first NUL
    /// (null-terminated or null-padded) or lose trailing spaces (space-padded).
    static func read(count: Int, storedAs type: hid_t, at site: HDF5Site,
                     _ read: (UnsafeMutableRawPointer?) -> herr_t) throws -> [String] {
        guard H5Tget_class(type) == H5T_STRING else {
            throw site.error(.typeMismatch, "stored as \(HDF5Types.describe(type)), not strings")
        }
        guard count > 0 else { return [] }
        if try site.truth(H5Tis_variable_str(type), "H5Tis_variable_str") {
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            defer { for pointer in pointers where pointer != nil { H5free_memory(pointer) } }
            try pointers.withUnsafeMutableBytes { try site.check(read($0.baseAddress), "read strings") }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type)
        guard size > 0 else { throw site.error(.library, "H5Tget_size failed") }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: count * size)
        try bytes.withUnsafeMutableBytes { try site.check(read($0.baseAddress), "read strings") }
        return (0..<count).map { index in
            var element = bytes[(index * size)..<((index + 1) * size)]
            if let end = element.firstIndex(of: 0) { element = element[..<end] }
            if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
            return String(decoding: element, as: UTF8.self)
        }
    }
}
