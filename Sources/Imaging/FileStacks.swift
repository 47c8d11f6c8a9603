/// A stack stored as pages of one multi-page TIFF (plain, ImageJ hyperstack or OME-TIFF).
/// Each `slice(at:)` opens the file, moves to the page and decodes it.
public struct TIFFPageStack: SliceSource {
    public let path: String
    /// IFD index of each slice, in stack order.
    public let pages: [Int]
    public let geometry: SliceGeometry
    public let metadata: ImageMetadata
    let memoryBudget: Int

    public var count: Int { pages.count }

    public func sliceName(at index: Int) -> String { "\(path) page \(pages[index])" }

    /// - Throws: `ImagingError` when the page cannot be decoded or no longer matches `geometry`.
    public func slice(at index: Int) throws -> Image {
        try TIFFFile.decodePage(path: path, index: pages[index], expected: geometry, memoryBudget: memoryBudget).0
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
