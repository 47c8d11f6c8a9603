import Foundation

/// An error a user can cause when starting `focusd web`: what was wrong, where, and what to do.
public struct WebError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public enum Kind: String, Sendable {
        /// `--listen` is not `HOST:PORT`.
        case badListenAddress
        /// The address cannot be listened on (in use, not on this machine, needs privileges).
        case cannotListen
        /// The thumbnail cache folder cannot be created or written.
        case cacheDirectory
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
