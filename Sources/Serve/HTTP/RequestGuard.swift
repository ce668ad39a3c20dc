import Foundation

/// What the viewer refuses before routing: path segments that could climb out of a folder, and
/// writes that do not come from the viewer's own pages.
///
/// Writes (POST, DELETE) need a `Host` naming the address the server listens on (loopback
/// names included), so a DNS-rebinding page (whose Host is its own domain) cannot write; an
/// `Origin`, when sent (browsers send it), must be `http://` + such a host, so another site's
/// page cannot either; and a JSON body type, which a plain HTML form cannot send.
public struct RequestGuard: Sendable {
    public let allowedHosts: Set<String>

    /// - Parameters: host: the address given to `--host`; port: the port actually bound.
    public init(host: String, port: Int) {
        var names: Set<String> = ["127.0.0.1", "localhost", "[::1]"]
        names.insert(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        allowedHosts = Set(names.map { "\($0.lowercased()):\(port)" })
    }

    /// The decoded segments of `path`.
    ///
    /// - Throws: `ServeError.badRequest` for `.` or `..` segments (encoded or not), encoded
    ///   slashes or backslashes, NUL, or invalid percent-encoding.
    public static func segments(_ path: String) throws -> [String] {
        guard path.hasPrefix("/") else { throw ServeError.badRequest("request path must start with /: \(path)") }
        var out: [String] = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let s = raw.removingPercentEncoding else { throw ServeError.badRequest("invalid percent-encoding in path segment '\(raw)'") }
            if s == "." || s == ".." || s.contains("/") || s.contains("\\") || s.contains("\0") {
                throw ServeError.badRequest("path segment '\(raw)' is not allowed: the viewer serves nothing by file path")
            }
            out.append(s)
        }
        if out.last == "" { out.removeLast() }
        if out.contains("") { throw ServeError.badRequest("empty path segment in \(path)") }
        return out
    }

    /// Checks a write request's Host, Origin and Content-Type.
    public func checkWrite(_ r: ViewerRequest) throws {
        guard let host = r.host?.lowercased(), allowedHosts.contains(host) else {
            throw ServeError.forbidden("write refused: Host '\(r.host ?? "")' is not this server (\(allowedHosts.sorted().joined(separator: ", ")))")
        }
        if let origin = r.origin?.lowercased() {
            guard origin.hasPrefix("http://"), allowedHosts.contains(String(origin.dropFirst(7))) else {
                throw ServeError.forbidden("write refused: Origin '\(origin)' is not this server")
            }
        }
        guard r.method == "DELETE" || (r.contentType ?? "").lowercased().hasPrefix("application/json") else {
            throw ServeError.badRequest("writes take a JSON body (Content-Type: application/json)")
        }
    }
}
