import Foundation

/// Why `circuits serve` could not start, or could not answer a request. Each case maps to one
/// HTTP status and is sent as `{"error": description, "status": N}`.
public enum ServeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Malformed query or body (400).
    case badRequest(String)
    /// A write refused: wrong Host or Origin, or a read-only run folder (403).
    case forbidden(String)
    /// Unknown prompt, feature or path (404).
    case notFound(String)
    /// A method the path does not take (405).
    case methodNotAllowed(String)
    /// More than the viewer builds in one request (413).
    case tooLarge(String)
    /// The folder or file to serve cannot be read (startup).
    case unreadable(String)

    public var description: String {
        switch self {
        case let .badRequest(s), let .forbidden(s), let .notFound(s), let .methodNotAllowed(s), let .tooLarge(s), let .unreadable(s): return s
        }
    }

    /// The HTTP status of the answer.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .forbidden: return 403
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .tooLarge: return 413
        case .unreadable: return 500
        }
    }
}
