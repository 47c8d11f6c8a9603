/// A failure to read or write an image or stack, with where it happened and what to do.
///
/// Every libtiff, libpng and libjpeg message ends up in `message`; nothing is printed to stderr.
public struct ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The file or folder does not exist or cannot be opened.
        case notFound
        /// Not an image focusd reads, or corrupt data.
        case unreadable
        /// The file ends before its header or image data does (e.g. an interrupted copy).
        case truncated
        /// A valid file in a layout focusd does not read (1-bit, palette, CMYK, signed, ...).
        case unsupportedLayout
        /// Slices of one stack differ in width, height, channels or sample format.
        case mismatchedSlices
        /// Decoding would exceed the memory budget, or a strip/tile size is absurd.
        case tooLarge
        /// A folder or list without any image.
        case emptyStack
        /// A TIFF could not be written.
        case writeFailed
    }

    public let kind: Kind
    /// The file (or folder) concerned.
    public let path: String
    /// 0-based page for multi-page files.
    public let page: Int?
    /// What was wrong and what to do.
    public let message: String

    public init(_ kind: Kind, path: String, page: Int? = nil, message: String) {
        self.kind = kind
        self.path = path
        self.page = page
        self.message = message
    }

    /// `<path> (page N): <message>`; the page part only for multi-page files.
    public var description: String {
        if let page {
            return "\(path) (page \(page)): \(message)"
        }
        return "\(path): \(message)"
    }
}
