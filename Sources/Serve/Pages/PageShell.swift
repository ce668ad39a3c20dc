import Foundation

/// The frame of every page: head, the shared stylesheet, the navigation bar with the search
/// box, the page body, and the page's script with its data (JSON in a `data-` attribute).
enum PageShell {
    static func render(title: String, script: String?, data: [String: String], body: String) -> String {
        let json = (try? JSONSerialization.data(withJSONObject: data, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(title))</title><link rel="stylesheet" href="/assets/viewer.css"></head>
        <body data-page="\(escapeHTML(json))">
        \(nav)
        <main>\(body)</main>
        \(script.map { "<script src=\"/assets/common.js\"></script><script src=\"/assets/\($0)\"></script>" } ?? "")
        </body></html>
        """
    }

    static let nav = """
    <nav class="top"><a href="/" class="brand">circuits</a><a href="/">report</a><a href="/search">search</a>
    <form action="/search" method="get"><input name="q" id="nav-search" placeholder="feature L0/F21, prompt id or text, token" aria-label="search"></form></nav>
    """
}

/// Text for HTML content and attribute values.
func escapeHTML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// A path segment for links (`encodeURIComponent`'s set).
func encodeSegment(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")) ?? s
}
