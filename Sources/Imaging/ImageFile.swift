/// Reads one single image (first page of a TIFF, PNG, JPEG) with its stored format.
public enum ImageFile {
    /// Reads `path` (recognised by its content, not its name) in its own scale: 0…255 for 8-bit,
    /// 0…65535 for 16-bit, as stored for float. Multi-page TIFFs give their first full-resolution
    /// page; `metadata.pageCount` says how many pages the file has.
    /// - Throws: `ImagingError` (`.notFound`, `.unreadable`, `.truncated`, `.unsupportedLayout`,
    ///   `.tooLarge` when the decoded image would exceed `memoryBudgetBytes`).
    public static func read(_ path: String, memoryBudgetBytes: Int = 4 << 30) throws(ImagingError)
        -> (image: Image, format: SampleFormat, metadata: ImageMetadata) {
        let header = try SingleImageHeader(path: path, memoryBudget: memoryBudgetBytes)
        let image = try header.decode(expected: nil, memoryBudget: memoryBudgetBytes)
        return (image, header.geometry.format, header.metadata)
    }
}

extension ImageFile {
    /// The geometry and metadata `read` would return, from the header alone (nothing decoded).
    /// - Throws: `ImagingError` as `read` does for headers (a TIFF whose data runs past the end of
    ///   the file is `.truncated`).
    public static func header(_ path: String, memoryBudgetBytes: Int = 4 << 30) throws(ImagingError)
        -> (geometry: SliceGeometry, metadata: ImageMetadata) {
        let header = try SingleImageHeader(path: path, memoryBudget: memoryBudgetBytes)
        return (header.geometry, header.metadata)
    }
}

/// The header of a single-image file: what it will decode to, read without decoding pixels.
struct SingleImageHeader: Sendable {
    enum Source: Sendable {
        case tiff(page: Int)
        case png(CodecReader.Header)
        case jpeg(CodecReader.Header)
    }

    let path: String
    let source: Source
    let geometry: SliceGeometry
    let metadata: ImageMetadata
    /// Directories in a TIFF; 1 for PNG and JPEG.
    let pageCount: Int

    init(path: String, memoryBudget: Int) throws(ImagingError) {
        guard let probe = FileProbe(path: path) else {
            throw FileProbe.openError(path)
        }
        self.path = path
        switch probe.container {
        case .tiff:
            let file = try TIFFFile(path: path, memoryBudget: memoryBudget, firstPageOnly: true)
            guard let first = file.pages.first else {
                throw ImagingError(.emptyStack, path: path, message: "the TIFF holds only reduced-resolution pages; export the full-resolution image")
            }
            source = .tiff(page: first.index)
            geometry = first.layout.geometry
            var metadata = first.layout.metadata
            metadata.pageCount = file.directoryCount
            self.metadata = metadata
            pageCount = file.directoryCount
        case .png, .jpeg:
            let codec: CodecReader.Codec = probe.container == .png ? .png : .jpeg
            let header = try CodecReader.header(path: path, codec: codec, memoryBudget: memoryBudget)
            source = codec == .png ? .png(header) : .jpeg(header)
            geometry = header.geometry
            metadata = ImageMetadata(pageCount: 1)
            pageCount = 1
        case .unknown:
            if probe.size == 0 {
                throw ImagingError(.truncated, path: path, message: "the file is empty; the copy is incomplete, copy it again")
            }
            if probe.tiffHeaderState == .truncated {
                throw ImagingError(.truncated, path: path, message: "the file ends inside its TIFF header; copy it again")
            }
            throw ImagingError(.unreadable, path: path, message: "not a TIFF, PNG or JPEG image (unrecognised first bytes); give a TIFF, PNG or JPEG file")
        }
    }

    /// Decodes the image, checking it still has `expected` geometry (when given).
    func decode(expected: SliceGeometry?, memoryBudget: Int) throws(ImagingError) -> Image {
        switch source {
        case .tiff(let page):
            return try TIFFFile.decodePage(path: path, index: page, expected: expected ?? geometry, memoryBudget: memoryBudget).0
        case .png(let header), .jpeg(let header):
            let current = try CodecReader.header(path: path, codec: header.codec, memoryBudget: memoryBudget)
            if let difference = SliceGeometry.difference(current.geometry, expected ?? geometry) {
                throw ImagingError(.mismatchedSlices, path: path, message: "its \(difference.property) is now \(difference.value), not \(difference.reference) (the file changed after the stack was opened); open the stack again")
            }
            return try CodecReader.decode(path: path, header: current)
        }
    }
}
