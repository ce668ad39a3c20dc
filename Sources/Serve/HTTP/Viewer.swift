import Foundation
import Storage

/// `circuits serve`'s routes, independent of the HTTP server: pages, assets and the JSON API
/// (docs/serve-api.md). Every failure is a `ServeError`, answered as a 4xx JSON error.
public final class Viewer: @unchecked Sendable {
    public let catalog: LiveCatalog
    public let supernodes: SupernodeStore
    private let lock = NSLock()
    private var guardRules: RequestGuard

    /// - Parameter requestGuard: the write rules; `bind(_:)` replaces them once the port is known.
    public init(catalog: LiveCatalog, requestGuard: RequestGuard) {
        self.catalog = catalog
        guardRules = requestGuard
        supernodes = SupernodeStore(folder: catalog.current().folder)
    }

    /// The write rules (Host and Origin) in force.
    public var requestGuard: RequestGuard {
        get { lock.lock(); defer { lock.unlock() }; return guardRules }
        set { lock.lock(); defer { lock.unlock() }; guardRules = newValue }
    }

    public func respond(_ r: ViewerRequest) -> ViewerResponse {
        do {
            let path = try RequestGuard.segments(r.path)
            if r.method != "GET" && r.method != "HEAD" { try requestGuard.checkWrite(r) }
            if path.first == "api" { return try api(Array(path.dropFirst()), r) }
            guard r.method == "GET" || r.method == "HEAD" else { throw ServeError.methodNotAllowed("\(r.method) \(r.path): pages are read-only") }
            return try page(path, r)
        } catch let e as ServeError {
            return .error(e)
        } catch {
            return .error(.badRequest("\(error)"))
        }
    }

    private func page(_ path: [String], _ r: ViewerRequest) throws -> ViewerResponse {
        let c = catalog.current()
        switch path.count {
        case 0: return .html(try c.kind == .run ? ReportPage.render(c) : GraphListPage.render(c))
        case 2 where path[0] == "graph":
            _ = try c.graph(path[1])
            return .html(PageShell.render(title: "Graph \(path[1])", script: "graph.js", data: ["graph": path[1]], body: GraphPageBody.html))
        case 2 where path[0] == "feature":
            return try featurePage(path[1], c)
        case 3 where path[0] == "feature":
            return try featurePage(path[1] + "/" + path[2], c)
        case 1 where path[0] == "search":
            return .html(PageShell.render(title: "Search", script: "search.js", data: ["q": r.query["q"] ?? ""], body: SearchPageBody.html))
        case 2 where path[0] == "assets":
            guard let asset = Assets.all[path[1]] else { throw ServeError.notFound("no asset '\(path[1])'") }
            return ViewerResponse(contentType: asset.contentType, body: Data(asset.text.utf8))
        default:
            throw ServeError.notFound("no page at \(r.path); pages: /, /graph/ID, /feature/L0/F1, /search?q=, API under /api")
        }
    }

    private func featurePage(_ text: String, _ c: Catalog) throws -> ViewerResponse {
        guard let id = FeatureID(lenient: text) else { throw ServeError.badRequest("'\(text)' is not a feature id (write L0/F197)") }
        return .html(PageShell.render(title: "Feature \(id)", script: "feature.js", data: ["feature": id.description], body: FeaturePageBody.html))
    }
}

/// Reading query parameters with their rules stated in the error.
extension ViewerRequest {
    func int(_ name: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let s = query[name] else { return d }
        guard let v = Int(s), range.contains(v) else { throw ServeError.badRequest("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound) (got '\(s)')") }
        return v
    }

    func threshold(_ name: String) throws -> Double? {
        guard let s = query[name] else { return nil }
        guard let v = Double(s), v.isFinite, (0...1).contains(v) else { throw ServeError.badRequest("\(name) must be a number between 0 and 1 (got '\(s)')") }
        return v
    }
}
