import Foundation

/// A request as the viewer sees it, free of the HTTP server's types (tests build them directly).
public struct ViewerRequest: Sendable {
    public var method: String
    /// The path as sent, still percent-encoded (`/api/graph/demo%2D001`).
    public var path: String
    /// Decoded query parameters (the last of repeated names wins).
    public var query: [String: String]
    public var host: String?, origin: String?, contentType: String?
    public var body: Data

    public init(method: String = "GET", path: String, query: [String: String] = [:], host: String? = nil,
                origin: String? = nil, contentType: String? = nil, body: Data = Data()) {
        self.method = method; self.path = path; self.query = query
        self.host = host; self.origin = origin; self.contentType = contentType; self.body = body
    }

    /// Parses `a=1&b=x%20y` (`+` is a space).
    public static func parseQuery(_ raw: String?) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (raw ?? "").split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            out[decode(kv[0])] = kv.count > 1 ? decode(kv[1]) : ""
        }
        return out
    }
}

/// The viewer's answer.
public struct ViewerResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: Data

    public init(status: Int = 200, contentType: String, body: Data) {
        self.status = status; self.contentType = contentType; self.body = body
    }

    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> ViewerResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return ViewerResponse(status: status, contentType: "application/json; charset=utf-8", body: try encoder.encode(value))
    }

    public static func html(_ text: String) -> ViewerResponse {
        ViewerResponse(contentType: "text/html; charset=utf-8", body: Data(text.utf8))
    }

    /// `{"error": …, "status": N}`.
    public static func error(_ e: ServeError) -> ViewerResponse {
        struct Body: Encodable { var error: String, status: Int }
        return (try? json(Body(error: e.description, status: e.status), status: e.status))
            ?? ViewerResponse(status: e.status, contentType: "application/json", body: Data("{\"error\":\"unencodable\"}".utf8))
    }
}
