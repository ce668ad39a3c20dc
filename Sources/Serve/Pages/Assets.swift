/// The viewer's static files, served from the binary under `/assets/NAME` (no CDN, no network).
enum Assets {
    struct Asset: Sendable { var contentType: String, text: String }

    static let all: [String: Asset] = [
        "viewer.css": Asset(contentType: "text/css; charset=utf-8", text: ViewerStyle.css),
        "common.js": Asset(contentType: "text/javascript; charset=utf-8", text: CommonScript.js),
        "graph.js": Asset(contentType: "text/javascript; charset=utf-8", text: GraphPageBody.script),
        "feature.js": Asset(contentType: "text/javascript; charset=utf-8", text: FeaturePageBody.script),
        "search.js": Asset(contentType: "text/javascript; charset=utf-8", text: SearchPageBody.script),
    ]
}
