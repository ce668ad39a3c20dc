import Foundation
import Testing
@testable import Serve

struct RequestGuardTests {
    @Test(arguments: ["/api/graph/../../etc/passwd", "/api/graph/%2e%2e/x", "/a/./b", "/api/graph/..%2Fetc", "/x/a%5Cb", "/x/%00", "/x//y", "/x/%zz", "api"])
    func refusedPaths(path: String) {
        #expect(throws: ServeError.self) { try RequestGuard.segments(path) }
    }

    @Test(arguments: [("/", [String]()), ("/api/graph/p%2D0", ["api", "graph", "p-0"]), ("/feature/L0/F1/", ["feature", "L0", "F1"]),
                      ("/api/graph/a%20b", ["api", "graph", "a b"])])
    func acceptedPaths(path: String, segments: [String]) throws {
        #expect(try RequestGuard.segments(path) == segments)
    }

    static let g = RequestGuard(host: "127.0.0.1", port: 8047)
    static func post(host: String?, origin: String?, type: String? = "application/json") -> ViewerRequest {
        ViewerRequest(method: "POST", path: "/api/supernodes/x", host: host, origin: origin, contentType: type)
    }

    @Test(arguments: [(post(host: "127.0.0.1:8047", origin: nil), true), (post(host: "localhost:8047", origin: "http://localhost:8047"), true),
                      (post(host: "127.0.0.1:8047", origin: "http://evil.example"), false), (post(host: "evil.example:8047", origin: nil), false),
                      (post(host: "127.0.0.1:9999", origin: nil), false), (post(host: nil, origin: nil), false),
                      (post(host: "127.0.0.1:8047", origin: "https://127.0.0.1:8047"), false),
                      (post(host: "127.0.0.1:8047", origin: nil, type: "text/plain"), false)])
    func writes(request: ViewerRequest, allowed: Bool) {
        #expect(((try? Self.g.checkWrite(request)) != nil) == allowed, "\(request.host ?? "-") \(request.origin ?? "-")")
    }

    @Test func queryParsing() {
        #expect(ViewerRequest.parseQuery("q=a+b%2Fc&n=1&flag") == ["q": "a b/c", "n": "1", "flag": ""])
    }
}
