// Attributes: small named values on a group or dataset (run metadata, thresholds, model
// names). Numbers as in datasets, strings variable-length UTF-8 (h5py reads them as `str`),
// bools as h5py's enum. Setting an attribute that exists replaces it. In errors the object of
// an attribute reads `/path@name`.
import CHDF5

extension HDF5File {
    /// Sets the scalar attribute `name` on the group or dataset at `path` (the root by default).
    ///
    /// - Throws: `HDF5Error` (`.notFound` if nothing is at `path`).
    public func setAttribute<T: HDF5Element>(_ name: String, _ value: T, at path: String = "/") throws {
        try withAttribute("write attribute", name, at: path) { object, site in
            try withUnsafeBytes(of: value) { bytes in
                try Self.writeAttribute(object, name, type: T.hdf5Type.fileType, memoryType: T.hdf5Type.memoryType,
                                        shape: [], data: bytes.baseAddress, site)
            }
        }
    }

    /// Sets the 1-D array attribute `name` on the group or dataset at `path`.
    public func setAttribute<T: HDF5Element>(_ name: String, _ values: [T], at path: String = "/") throws {
        try withAttribute("write attribute", name, at: path) { object, site in
            try values.withUnsafeBytes { bytes in
                try Self.writeAttribute(object, name, type: T.hdf5Type.fileType, memoryType: T.hdf5Type.memoryType,
                                        shape: [values.count], data: bytes.baseAddress, site)
            }
        }
    }

    /// Sets the bool attribute `name` (h5py reads it as `numpy.bool_`).
    public func setAttribute(_ name: String, _ value: Bool, at path: String = "/") throws {
        try withAttribute("write attribute", name, at: path) { object, site in
            let type = try HDF5Types.bool(at: site)
            var byte: Int8 = value ? 1 : 0
            try Self.writeAttribute(object, name, type: type.id, memoryType: type.id, shape: [], data: &byte, site)
        }
    }

    /// Sets the variable-length UTF-8 string attribute `name` (h5py reads it as `str`).
    ///
    /// - Throws: `HDF5Error` (`.invalidArgument` if `value` contains NUL; `.notFound`).
    public func setAttribute(_ name: String, _ value: String, at path: String = "/") throws {
        try setStrings(name, [value], shape: [], at: path)
    }

    /// Sets the 1-D string-array attribute `name` (h5py reads it as an array of `str`).
    public func setAttribute(_ name: String, _ values: [String], at path: String = "/") throws {
        try setStrings(name, values, shape: [values.count], at: path)
    }

    /// Reads the numeric attribute `name` of the object at `path`, converting from its stored
    /// numeric type (an `Int` attribute reads as `Double` too).
    ///
    /// - Throws: `HDF5Error` (`.notFound`; `.typeMismatch` if it is not numeric;
    ///   `.shapeMismatch` if it holds more than one value: use `attributeArray`).
    public func attribute<T: HDF5Element>(_ name: String, as type: T.Type = T.self, at path: String = "/") throws -> T {
        let values = try attributeArray(name, as: type, at: path, expectingOne: true)
        return values[0]
    }

    /// Reads all values of the numeric attribute `name`, in row-major order.
    public func attributeArray<T: HDF5Element>(_ name: String, as type: T.Type = T.self,
                                               at path: String = "/") throws -> [T] {
        try attributeArray(name, as: type, at: path, expectingOne: false)
    }

    /// Reads the bool attribute `name` (h5py's bool enum, or an integer: nonzero is true).
    public func boolAttribute(_ name: String, at path: String = "/") throws -> Bool {
        try withAttribute("read attribute", name, at: path) { object, site in
            try Self.readAttribute(object, name, site) { attribute, stored, count, site in
                let storedClass = H5Tget_class(stored)
                guard storedClass == H5T_ENUM || storedClass == H5T_INTEGER else {
                    throw site.error(.typeMismatch, "stored as \(HDF5Types.describe(stored)), not a bool")
                }
                guard count == 1 else { throw site.error(.shapeMismatch, "holds \(count) values, not one") }
                let type = try HDF5Types.bool(at: site)
                var byte: Int8 = 0
                let memoryType = storedClass == H5T_ENUM ? type.id : chdf5_native_int8()
                try site.check(H5Aread(attribute, memoryType, &byte), "H5Aread")
                return byte != 0
            }
        }
    }

    /// Reads the string attribute `name` (variable- or fixed-length).
    ///
    /// - Throws: `HDF5Error` (`.notFound`; `.typeMismatch`; `.shapeMismatch` if it holds
    ///   several strings: use `stringArrayAttribute`).
    public func stringAttribute(_ name: String, at path: String = "/") throws -> String {
        let strings = try readStrings(name, at: path, expectingOne: true)
        return strings[0]
    }

    /// Reads all strings of the string attribute `name`, in row-major order.
    public func stringArrayAttribute(_ name: String, at path: String = "/") throws -> [String] {
        try readStrings(name, at: path, expectingOne: false)
    }

    /// Whether the object at `path` exists and has an attribute `name`.
    public func hasAttribute(_ name: String, at path: String = "/") -> Bool {
        (try? withAttribute("check attribute", name, at: path) { object, site in
            try site.truth(H5Aexists(object, name), "H5Aexists")
        }) ?? false
    }

    /// The names of the attributes of the object at `path`, sorted.
    public func attributeNames(at path: String = "/") throws -> [String] {
        try withFile("list attributes", object: path) { file, site in
            let object = try Self.openObject(file, path, site)
            final class Names { var names: [String] = [] }
            let collected = Names()
            try withExtendedLifetime(collected) {
                let context = Unmanaged.passUnretained(collected).toOpaque()
                try site.check(H5Aiterate2(object.id, H5_INDEX_NAME, H5_ITER_INC, nil, { _, name, _, context in
                    guard let name, let context else { return -1 }
                    Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
                    return 0
                }, context), "H5Aiterate2")
            }
            return collected.names.sorted()
        }
    }

    // Internal helpers.

    /// Runs `body` under the file lock with the object at `path` open and a site naming
    /// `/path@name`.
    private func withAttribute<R>(_ operation: String, _ name: String, at path: String,
                                  _ body: (hid_t, HDF5Site) throws -> R) throws -> R {
        try withFile(operation, object: path) { file, site in
            let absolute = HDF5Path.absolute(path)
            let site = site.with(object: absolute + "@" + name)
            guard !name.isEmpty else { throw site.error(.invalidArgument, "an attribute needs a name") }
            let object = try Self.openObject(file, path, site)
            return try body(object.id, site)
        }
    }

    private func setStrings(_ name: String, _ values: [String], shape: [Int], at path: String) throws {
        try withAttribute("write attribute", name, at: path) { object, site in
            let type = try HDF5Types.variableString(at: site)
            try HDF5Strings.withCStrings(values, at: site) { pointers in
                try Self.writeAttribute(object, name, type: type.id, memoryType: type.id, shape: shape,
                                        data: pointers, site)
            }
        }
    }

    private func attributeArray<T: HDF5Element>(_ name: String, as type: T.Type, at path: String,
                                                expectingOne: Bool) throws -> [T] {
        try withAttribute("read attribute", name, at: path) { object, site in
            try Self.readAttribute(object, name, site) { attribute, stored, count, site in
                try HDF5StoredKind.numbers.check(stored, site)
                if expectingOne && count != 1 {
                    throw site.error(.shapeMismatch, "holds \(count) values, not one (use attributeArray)")
                }
                return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                    if count > 0 {
                        try site.check(H5Aread(attribute, T.hdf5Type.memoryType, buffer.baseAddress), "H5Aread")
                    }
                    initialized = count
                }
            }
        }
    }

    private func readStrings(_ name: String, at path: String, expectingOne: Bool) throws -> [String] {
        try withAttribute("read attribute", name, at: path) { object, site in
            try Self.readAttribute(object, name, site) { attribute, stored, count, site in
                if expectingOne && count != 1 && H5Tget_class(stored) == H5T_STRING {
                    throw site.error(.shapeMismatch, "holds \(count) strings, not one (use stringArrayAttribute)")
                }
                return try HDF5Strings.read(count: count, storedAs: stored, at: site) { buffer in
                    H5Aread(attribute, stored, buffer)
                }
            }
        }
    }

    /// Opens the group or dataset at `path`; `.notFound` if nothing is there.
    static func openObject(_ file: hid_t, _ path: String, _ site: HDF5Site) throws -> HDF5Handle {
        guard linkExists(file, path) else { throw site.error(.notFound, "no object at this path") }
        return try site.own(H5Oopen(file, HDF5Path.absolute(path), chdf5_default()), "H5Oopen", close: H5Oclose)
    }

    /// Replaces attribute `name` of `object` with one of `type` and `shape` holding `data`.
    static func writeAttribute(_ object: hid_t, _ name: String, type: hid_t, memoryType: hid_t, shape: [Int],
                               data: UnsafeRawPointer?, _ site: HDF5Site) throws {
        if try site.truth(H5Aexists(object, name), "H5Aexists") {
            try site.check(H5Adelete(object, name), "H5Adelete")
        }
        let space = try HDF5Shape.dataspace(shape, at: site)
        let attribute = try site.own(H5Acreate2(object, name, type, space.id, chdf5_default(), chdf5_default()),
                                     "H5Acreate2", close: H5Aclose)
        guard shape.reduce(1, *) > 0 else { return }
        try site.check(H5Awrite(attribute.id, memoryType, data), "H5Awrite")
    }

    /// Opens attribute `name` of `object` and calls `body(attribute, storedType, count, site)`.
    static func readAttribute<R>(_ object: hid_t, _ name: String, _ site: HDF5Site,
                                 _ body: (hid_t, hid_t, Int, HDF5Site) throws -> R) throws -> R {
        guard try site.truth(H5Aexists(object, name), "H5Aexists") else {
            throw site.error(.notFound, "no attribute of this name")
        }
        let attribute = try site.own(H5Aopen(object, name, chdf5_default()), "H5Aopen", close: H5Aclose)
        let stored = try site.own(H5Aget_type(attribute.id), "H5Aget_type", close: H5Tclose)
        let space = try site.own(H5Aget_space(attribute.id), "H5Aget_space", close: H5Sclose)
        let count = try HDF5Shape.dimensions(of: space.id, at: site).reduce(1, *)
        return try body(attribute.id, stored.id, count, site)
    }
}
