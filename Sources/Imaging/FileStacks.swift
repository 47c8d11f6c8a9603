import Foundation

/// A stack stored as pages of one multi-page TIFF (plain, ImageJ hyperstack or OME-TIFF).
/// Each `slice(at:)` opens the file, moves to the page and decodes it.
public struct TIFFPageStack: SliceSource {
    public let path: String
    /// IFD index of each slice, in stack order.
    public let pages: [Int]
    public let geometry: SliceGeometry
    public let metadata: ImageMetadata
    /// File offset of each slice's directory.
    let directoryOffsets: [UInt64]
    let memoryBudget: Int
    let reader: SharedTIFFReader

    public var count: Int { pages.count }

    public func sliceName(at index: Int) -> String { "\(path) page \(pages[index])" }

    /// - Throws: `ImagingError` when the page cannot be decoded or no longer matches `geometry`.
    public func slice(at index: Int) throws -> Image {
        try reader.decode(index: pages[index], offset: directoryOffsets[index], expected: geometry)
    }
}

/// One open libtiff handle shared by the copies of a `TIFFPageStack`, so that reading page k of
/// an N-page file does not walk the chain of k directories again (O(N²) for a whole stack).
/// Decodes are serialised by a lock; the handle is reopened after any error.
final class SharedTIFFReader: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: TIFFHandle?
    let path: String
    let memoryBudget: Int

    init(path: String, memoryBudget: Int) {
        self.path = path
        self.memoryBudget = memoryBudget
    }

    func decode(index: Int, offset: UInt64, expected: SliceGeometry) throws(ImagingError) -> Image {
        lock.lock()
        defer { lock.unlock() }
        do {
            if handle == nil { handle = try TIFFHandle(path: path, mode: "rm", maximumAllocation: memoryBudget) }
            return try TIFFFile.decodePage(path: path, index: index, offset: offset, expected: expected,
                                           memoryBudget: memoryBudget, reusing: handle).0
        } catch {
            handle = nil
            throw error
        }
    }
}

/// A stack of single-image files (a folder of slices, or a list of files), in the given order.
public struct FileListStack: SliceSource {
    /// The files, in stack order.
    public let paths: [String]
    public let geometry: SliceGeometry
    public let metadata: ImageMetadata
    let headers: [SingleImageHeader]
    let memoryBudget: Int

    public var count: Int { paths.count }

    public func sliceName(at index: Int) -> String { paths[index] }

    /// - Throws: `ImagingError` when the file cannot be decoded or no longer matches `geometry`.
    public func slice(at index: Int) throws -> Image {
        try headers[index].decode(expected: geometry, memoryBudget: memoryBudget)
    }
}
