// Errors of the HDF5 wrapper, and the plumbing that turns HDF5's per-thread error stack into
// them. Every call into HDF5 goes through `HDF5Site`: it names the file, the object path and
// the operation, so a failure deep in a shard writer still says which tensor of which file.
import CHDF5

/// A failed HDF5 operation: what was attempted, on which object of which file, and why.
///
/// `description` is meant to be printed as is, e.g.
/// `HDF5 read dataset failed: no object at this path (object '/prune/node_mask', file /tmp/a.h5)`.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; the `detail` and `stack` say more.
    public enum Kind: Sendable, Equatable {
        /// An HDF5 library call returned a negative status; `stack` holds HDF5's explanation.
        case library
        /// No object at the path, or no attribute of that name.
        case notFound
        /// An object already exists where one was to be created.
        case alreadyExists
        /// The number of values does not match the shape (or a whole number of rows).
        case shapeMismatch
        /// The stored type cannot be read or written as the requested one.
        case typeMismatch
        /// An argument is out of range: compression level, chunk rows, path, NUL in a string.
        case invalidArgument
        /// The file was closed before the operation.
        case closed
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// Path of the HDF5 file on disk.
    public let file: String
    /// Path of the dataset, group or attribute inside the file (`/prune/node_mask`,
    /// `/meta@scan`), or nil for file-level operations.
    public let object: String?
    /// What was being done: `"open file"`, `"write dataset"`, `"read attribute"`, ...
    public let operation: String
    /// Our explanation: the failing HDF5 call, or the mismatch found before calling HDF5.
    public let detail: String
    /// HDF5's error stack, outermost (the API call) first; empty when HDF5 was not involved.
    public let stack: [String]

    public var description: String {
        var text = "HDF5 \(operation) failed: \(detail) ("
        if let object { text += "object '\(object)', " }
        text += "file \(file))"
        if !stack.isEmpty { text += "; HDF5 says: " + stack.joined(separator: " <- ") }
        return text
    }
}

/// HDF5's error stack of the calling thread.
///
/// The stack and its automatic printing are per thread (thread-safe build), so every entry
/// point silences printing on the thread it runs on, and every failure walks then clears the
/// stack: a stack left behind makes HDF5 print "infinite loop closing library" at exit.
enum HDF5ErrorStack {
    /// Turns off HDF5's automatic printing of errors to stderr on the calling thread.
    static func silence() {
        _ = H5Eset_auto2(chdf5_e_default(), nil, nil)
    }

    /// Clears the calling thread's error stack, discarding its entries.
    static func clear() {
        _ = H5Eclear2(chdf5_e_default())
    }

    /// Walks the calling thread's error stack from the API call inwards, returns one line per
    /// entry (`H5Dopen2: unable to open dataset [object not found]`), and clears the stack.
    static func drain() -> [String] {
        final class Lines { var lines: [String] = [] }
        let collected = Lines()
        withExtendedLifetime(collected) {
            let context = Unmanaged.passUnretained(collected).toOpaque()
            _ = H5Ewalk2(chdf5_e_default(), H5E_WALK_DOWNWARD, { _, entry, context in
                guard let entry, let context else { return 0 }
                let lines = Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue()
                let function = entry.pointee.func_name.map { String(cString: $0) } ?? "?"
                let desc = entry.pointee.desc.map { String(cString: $0) } ?? ""
                var line = "\(function): \(desc)"
                let minor = HDF5ErrorStack.message(entry.pointee.min_num)
                if !minor.isEmpty && !desc.contains(minor) { line += " [\(minor)]" }
                lines.lines.append(line)
                return 0
            }, context)
        }
        clear()
        return collected.lines
    }

    /// The text of an HDF5 major or minor error message id, or "" if it has none.
    private static func message(_ id: hid_t) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = H5Eget_msg(id, nil, &buffer, buffer.count)
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(min(Int(length), buffer.count - 1)).map { UInt8(bitPattern: $0) },
                      as: UTF8.self)
    }
}

/// Where an HDF5 call happens: file, object and operation, used to build `HDF5Error`s.
struct HDF5Site {
    let file: String
    let object: String?
    let operation: String

    /// The site of another object in the same file and operation.
    func with(object: String?) -> HDF5Site {
        HDF5Site(file: file, object: object, operation: operation)
    }

    /// An error at this site. For `.library` errors HDF5's error stack is drained into it;
    /// for the others the stack is only cleared.
    func error(_ kind: HDF5Error.Kind, _ detail: String) -> HDF5Error {
        let stack = HDF5ErrorStack.drain()
        return HDF5Error(kind: kind, file: file, object: object, operation: operation,
                         detail: detail, stack: kind == .library ? stack : [])
    }

    /// Throws a `.library` error naming `call` when an `herr_t` is negative.
    func check(_ status: herr_t, _ call: String) throws {
        guard status >= 0 else { throw error(.library, "\(call) failed") }
    }

    /// The truth value of an `htri_t`; throws a `.library` error naming `call` if negative.
    func truth(_ status: htri_t, _ call: String) throws -> Bool {
        guard status >= 0 else { throw error(.library, "\(call) failed") }
        return status > 0
    }

    /// Throws a `.library` error naming `call` when an id is negative; otherwise wraps the id
    /// in a handle that closes it with `close` when it goes out of scope.
    func own(_ id: hid_t, _ call: String, close: @escaping HDF5Handle.Closer) throws -> HDF5Handle {
        guard id >= 0 else { throw error(.library, "\(call) failed") }
        return HDF5Handle(id, close: close)
    }
}
