// HDF5File: the one way this project reads and writes HDF5 (graph shards, merged corpora,
// per-prompt tables). A small, safe layer over the C library (`CHDF5`, HDF5 1.10 serial,
// thread-safe build): paths instead of ids, Swift arrays and shapes instead of buffers and
// dataspaces, `HDF5Error` instead of negative returns and stderr noise. Files are plain HDF5
// that h5py and h5dump read: little-endian numbers, bools as h5py's enum, UTF-8 strings.
//
// Split by concept: this file (lifecycle, groups, lookups), HDF5Dataset.swift (whole-dataset
// writes and reads), HDF5Extendable.swift (appendable tables), HDF5Attribute.swift.
import Foundation
import CHDF5

/// An open HDF5 file.
///
/// Objects are named by slash paths relative to the root (`"prune/node_mask"`, a leading `/`
/// is optional); writing a dataset creates its intermediate groups.
///
/// Thread safety: every method holds the file's lock for its whole duration, so one
/// `HDF5File` may be shared between threads (an `append` is atomic with respect to other
/// appends). HDF5 itself serialises all calls behind its global lock, so this buys safety,
/// not parallelism.
public final class HDF5File: @unchecked Sendable {
    /// The file's path on disk, as given.
    public let path: String

    private let lock = NSLock()
    /// The HDF5 file id; -1 once closed. Guarded by `lock`.
    private var fileID: hid_t

    private init(path: String, fileID: hid_t) {
        self.path = path
        self.fileID = fileID
    }

    deinit { close() }

    /// Creates a file at `url`, truncating any existing file, open for writing.
    ///
    /// - Throws: `HDF5Error` if the file cannot be created (missing folder, permissions).
    public static func create(_ url: URL) throws -> HDF5File {
        HDF5ErrorStack.silence()
        let site = HDF5Site(file: url.path, object: nil, operation: "create file")
        let access = try unlockedAccessList(site)
        let id = H5Fcreate(url.path, chdf5_acc_trunc(), chdf5_default(), access.id)
        guard id >= 0 else { throw site.error(.library, "H5Fcreate failed") }
        return HDF5File(path: url.path, fileID: id)
    }

    /// Opens the existing file at `url`, read-only unless `writable`.
    ///
    /// - Throws: `HDF5Error` (`.notFound` when there is no file at `url`; `.library` when it
    ///   is not an HDF5 file).
    public static func open(_ url: URL, writable: Bool = false) throws -> HDF5File {
        HDF5ErrorStack.silence()
        let site = HDF5Site(file: url.path, object: nil, operation: writable ? "open file for writing" : "open file")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw site.error(.notFound, "no such file")
        }
        let access = try unlockedAccessList(site)
        let id = H5Fopen(url.path, writable ? chdf5_acc_rdwr() : chdf5_acc_rdonly(), access.id)
        guard id >= 0 else { throw site.error(.library, "H5Fopen failed") }
        return HDF5File(path: url.path, fileID: id)
    }

    /// Closes the file, flushing what was written. Idempotent; `deinit` calls it too. Any
    /// later operation throws a `.closed` error.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard fileID >= 0 else { return }
        HDF5ErrorStack.silence()
        if H5Fclose(fileID) < 0 { HDF5ErrorStack.clear() }
        fileID = -1
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return fileID < 0
    }

    /// Writes everything buffered for this file to disk.
    public func flush() throws {
        try withFile("flush file", object: nil) { file, site in
            try site.check(H5Fflush(file, H5F_SCOPE_GLOBAL), "H5Fflush")
        }
    }

    /// Runs `body` with the file id under the lock, HDF5 error printing silenced on this
    /// thread and a site naming `operation` and `object` (made absolute) for errors.
    func withFile<R>(_ operation: String, object: String?,
                     _ body: (hid_t, HDF5Site) throws -> R) throws -> R {
        lock.lock()
        defer { lock.unlock() }
        HDF5ErrorStack.silence()
        let site = HDF5Site(file: path, object: object.map(HDF5Path.absolute), operation: operation)
        guard fileID >= 0 else { throw site.error(.closed, "the file is already closed") }
        return try body(fileID, site)
    }
}

// MARK: - Groups and lookups

extension HDF5File {
    /// Whether a link (group, dataset) exists at `path`. `"/"` always exists; a path through
    /// a dataset (`"weights/x"`) does not. Never throws: a closed file holds nothing.
    public func exists(_ path: String) -> Bool {
        (try? withFile("check existence", object: path) { file, _ in Self.linkExists(file, path) }) ?? false
    }

    /// The names of the links in the group at `path`, sorted.
    ///
    /// - Throws: `HDF5Error` (`.notFound` if nothing is at `path`; `.library` if it is not a
    ///   group).
    public func children(of path: String = "/") throws -> [String] {
        try withFile("list group", object: path) { file, site in
            let group = try Self.openGroup(file, path, site)
            var info = H5G_info_t()
            try site.check(H5Gget_info(group.id, &info), "H5Gget_info")
            var names: [String] = []
            names.reserveCapacity(Int(info.nlinks))
            for index in 0..<info.nlinks {
                let length = H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                                nil, 0, chdf5_default())
                guard length >= 0 else { throw site.error(.library, "H5Lget_name_by_idx failed") }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                guard H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                         &buffer, buffer.count, chdf5_default()) >= 0 else {
                    throw site.error(.library, "H5Lget_name_by_idx failed")
                }
                names.append(String(decoding: buffer.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return names.sorted()
        }
    }

    /// Creates the group at `path` and any missing intermediate groups. Does nothing if a
    /// group is already there.
    ///
    /// - Throws: `HDF5Error` (`.alreadyExists` if a dataset is at `path`).
    public func createGroup(_ path: String) throws {
        try withFile("create group", object: path) { file, site in
            let absolute = HDF5Path.absolute(path)
            if Self.linkExists(file, path) {
                let id = H5Gopen2(file, absolute, chdf5_default())
                guard id >= 0 else { throw site.error(.alreadyExists, "a non-group object is at this path") }
                H5Gclose(id)
                return
            }
            let linkList = try Self.intermediateGroupLinkList(site)
            _ = try site.own(H5Gcreate2(file, absolute, linkList.id, chdf5_default(), chdf5_default()),
                             "H5Gcreate2", close: H5Gclose)
        }
    }

    /// Unlinks the group or dataset at `path` (its space stays in the file).
    ///
    /// - Throws: `HDF5Error` (`.notFound` if nothing is at `path`).
    public func remove(_ path: String) throws {
        try withFile("remove", object: path) { file, site in
            guard Self.linkExists(file, path) else { throw site.error(.notFound, "nothing at this path") }
            try site.check(H5Ldelete(file, HDF5Path.absolute(path), chdf5_default()), "H5Ldelete")
        }
    }

    /// The shape of the dataset at `path` (`[]` for a scalar).
    ///
    /// - Throws: `HDF5Error` (`.notFound` if nothing is at `path`).
    public func shape(of path: String) throws -> [Int] {
        try withFile("read shape", object: path) { file, site in
            let dataset = try Self.openDataset(file, path, site)
            let space = try site.own(H5Dget_space(dataset.id), "H5Dget_space", close: H5Sclose)
            return try HDF5Shape.dimensions(of: space.id, at: site)
        }
    }

    // Internal helpers: called with the lock held, from inside `withFile`.

    /// Whether every prefix of `path` is a link (H5Lexists fails if an intermediate is missing).
    static func linkExists(_ file: hid_t, _ path: String) -> Bool {
        var prefix = ""
        for component in HDF5Path.components(path) {
            prefix += "/" + component
            guard H5Lexists(file, prefix, chdf5_default()) > 0 else {
                HDF5ErrorStack.clear()
                return false
            }
        }
        return true
    }

    /// Opens the dataset at `path`; `.notFound` if there is nothing at `path`.
    static func openDataset(_ file: hid_t, _ path: String, _ site: HDF5Site) throws -> HDF5Handle {
        guard linkExists(file, path) else { throw site.error(.notFound, "no object at this path") }
        return try site.own(H5Dopen2(file, HDF5Path.absolute(path), chdf5_default()), "H5Dopen2", close: H5Dclose)
    }

    /// Opens the group at `path`; `.notFound` if there is nothing at `path`.
    static func openGroup(_ file: hid_t, _ path: String, _ site: HDF5Site) throws -> HDF5Handle {
        guard linkExists(file, path) else { throw site.error(.notFound, "no object at this path") }
        return try site.own(H5Gopen2(file, HDF5Path.absolute(path), chdf5_default()), "H5Gopen2", close: H5Gclose)
    }

    /// A file-access property list without HDF5's file locking. Our files are written under a
    /// temporary name and renamed into place, so no reader ever meets a writer; and the lock
    /// (`flock` on a descriptor libhdf5 opens without `O_CLOEXEC`) lives on in every process
    /// started while the file was open, so that a test or worker process spawned at the wrong
    /// moment made the next open of the file fail with EAGAIN ("unable to lock the file").
    static func unlockedAccessList(_ site: HDF5Site) throws -> HDF5Handle {
        let list = try site.own(H5Pcreate(chdf5_p_file_access()), "H5Pcreate", close: H5Pclose)
        try site.check(H5Pset_file_locking(list.id, false, true), "H5Pset_file_locking")
        return list
    }

    /// A link-creation property list that creates missing intermediate groups.
    static func intermediateGroupLinkList(_ site: HDF5Site) throws -> HDF5Handle {
        let list = try site.own(H5Pcreate(chdf5_p_link_create()), "H5Pcreate", close: H5Pclose)
        try site.check(H5Pset_create_intermediate_group(list.id, 1), "H5Pset_create_intermediate_group")
        return list
    }
}
