// CurveZMQ keys: what authenticates workers to the coordinator and the coordinator to workers.
//
// Layout of a key folder (`circuits keys generate DIR --name NAME` writes the first two):
//   DIR/NAME.key        the key pair (public and secret, Z85), mode 0600: never leaves its host
//   DIR/NAME.pub        the public key alone: what the other side is given
// The coordinator's folder (`--keys DIR` of `circuits coordinator`):
//   DIR/coordinator.key         its key pair
//   DIR/workers/*.pub           the workers it accepts (add a file to admit one, delete it to revoke)
// A worker's folder (`--keys DIR` of `circuits worker`):
//   DIR/worker.key              its key pair
//   DIR/coordinator.pub         the coordinator it trusts (the connection fails for any other)
import CZMQ
import Foundation

/// A CurveZMQ key pair, or a public key alone (`secret` nil), as 40-character Z85 text.
public struct CurveKey: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String?

    /// A fresh key pair from libzmq (`zmq_curve_keypair`, libsodium's randomness).
    public static func generate() throws -> CurveKey {
        guard zmq_has("curve") == 1 else { throw CurveKeyError.curveUnavailable }
        var pub = [CChar](repeating: 0, count: 41), sec = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&pub, &sec) == 0 else { throw CurveKeyError.curveUnavailable }
        return CurveKey(publicKey: String(decoding: pub.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self),
                        secretKey: String(decoding: sec.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    public init(publicKey: String, secretKey: String?) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// True for 40 characters of the Z85 alphabet (what libzmq accepts as a text key).
    public static func isZ85Key(_ s: String) -> Bool {
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
        return s.count == 40 && s.allSatisfy { alphabet.contains($0) }
    }

    // MARK: Files

    /// Writes `DIR/NAME.key` (mode 0600) and `DIR/NAME.pub`; refuses to overwrite either.
    public func write(to dir: URL, name: String) throws {
        guard let secretKey else { throw CurveKeyError.malformed(dir.path, "a key pair needs its secret key") }
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let keyFile = dir.appendingPathComponent(name + ".key"), pubFile = dir.appendingPathComponent(name + ".pub")
        for f in [keyFile, pubFile] where fm.fileExists(atPath: f.path) { throw CurveKeyError.exists(f.path) }
        let header = "# circuits CurveZMQ key pair '\(name)': keep this file secret; give \(name).pub to the other side\n"
        guard fm.createFile(atPath: keyFile.path, contents: Data((header + "public = \(publicKey)\nsecret = \(secretKey)\n").utf8),
                            attributes: [.posixPermissions: 0o600]) else { throw CurveKeyError.unreadable(keyFile.path, "cannot create") }
        try Data("# circuits CurveZMQ public key '\(name)'\npublic = \(publicKey)\n".utf8).write(to: pubFile)
    }

    /// Reads a `.key` (key pair) or `.pub` (public key) file.
    public static func read(_ url: URL, needSecret: Bool) throws -> CurveKey {
        guard FileManager.default.fileExists(atPath: url.path) else { throw CurveKeyError.missing(url.path) }
        guard let data = try? Data(contentsOf: url), data.count <= 4096, let text = String(data: data, encoding: .utf8) else {
            throw CurveKeyError.unreadable(url.path, "not a small UTF-8 text file")
        }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, ["public", "secret"].contains(parts[0]), fields[parts[0]] == nil else {
                throw CurveKeyError.malformed(url.path, "expected lines 'public = KEY' and 'secret = KEY', found '\(line.prefix(60))'")
            }
            guard isZ85Key(parts[1]) else { throw CurveKeyError.malformed(url.path, "'\(parts[0])' is not a 40-character Z85 key") }
            fields[parts[0]] = parts[1]
        }
        guard let pub = fields["public"] else { throw CurveKeyError.malformed(url.path, "no 'public = KEY' line") }
        if needSecret && fields["secret"] == nil { throw CurveKeyError.malformed(url.path, "no 'secret = KEY' line (a .pub file where a .key is needed?)") }
        return CurveKey(publicKey: pub, secretKey: fields["secret"])
    }
}

/// A key file is missing, unreadable or malformed; names the file.
public enum CurveKeyError: Error, CustomStringConvertible, Equatable {
    case curveUnavailable
    case missing(String)
    case exists(String)
    case unreadable(String, String)
    case malformed(String, String)

    public var description: String {
        switch self {
        case .curveUnavailable: return "this libzmq has no CURVE security (it needs libzmq built with libsodium)"
        case let .missing(path): return "key file not found: \(path) (make one with `circuits keys generate`)"
        case let .exists(path): return "key file already exists: \(path) (keys are never overwritten; remove it first)"
        case let .unreadable(path, why): return "cannot read key file \(path): \(why)"
        case let .malformed(path, why): return "malformed key file \(path): \(why)"
        }
    }
}

/// The security of one end of the coordinator–worker connection.
public enum TransportSecurity: Sendable, Equatable {
    /// No encryption, no authentication: loopback only, or with `--insecure`.
    case none
    /// The coordinator's CURVE key pair and the folder of the workers' public keys it accepts.
    case coordinator(key: CurveKey, authorizedWorkers: URL)
    /// A worker's key pair and the coordinator public key it trusts.
    case worker(key: CurveKey, coordinatorKey: String)

    /// The coordinator's folder: `DIR/coordinator.key` and `DIR/workers/*.pub`.
    public static func coordinator(keys dir: URL) throws -> TransportSecurity {
        let key = try CurveKey.read(dir.appendingPathComponent("coordinator.key"), needSecret: true)
        let workers = dir.appendingPathComponent("workers")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: workers.path, isDirectory: &isDir), isDir.boolValue else {
            throw CurveKeyError.missing(workers.path + "/ (the folder of authorized workers' .pub files)")
        }
        return .coordinator(key: key, authorizedWorkers: workers)
    }

    /// A worker's folder: `DIR/worker.key` and `DIR/coordinator.pub`.
    public static func worker(keys dir: URL) throws -> TransportSecurity {
        .worker(key: try CurveKey.read(dir.appendingPathComponent("worker.key"), needSecret: true),
                coordinatorKey: try CurveKey.read(dir.appendingPathComponent("coordinator.pub"), needSecret: false).publicKey)
    }
}

/// Whether `endpoint` stays on this machine (`tcp://127.x.x.x`, `tcp://localhost`, `tcp://[::1]`,
/// `ipc://`, `inproc://`): the only places a coordinator may bind without keys unless told
/// `--insecure`.
public func isLoopbackEndpoint(_ endpoint: String) -> Bool {
    if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
    guard endpoint.hasPrefix("tcp://") else { return false }
    let rest = endpoint.dropFirst(6)
    let host: Substring
    if rest.hasPrefix("[") { host = rest.dropFirst().prefix { $0 != "]" } } else { host = rest.prefix { $0 != ":" } }
    let octets = host.split(separator: ".", omittingEmptySubsequences: false)
    let loopbackIPv4 = octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    return host == "localhost" || host == "::1" || host == "lo" || loopbackIPv4
}
