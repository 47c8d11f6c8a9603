import CTIFF

/// The pages of a TIFF file as read from its directories, before any pixel is decoded.
struct TIFFFile {
    let path: String
    let fileSize: Int
    /// Number of directories (pages) in the main chain.
    let directoryCount: Int
    /// Full-resolution pages (reduced-resolution copies are skipped), with their IFD index and
    /// the file offset of their directory (for direct access without walking the chain).
    let pages: [(index: Int, offset: UInt64, layout: TIFFPageLayout)]
    /// Where the first page's pixels lie when they are uncompressed, chunky and contiguous (the
    /// precondition for ImageJ's raw layout of files over 4 GiB).
    let firstPageData: ContiguousPageData?

    struct ContiguousPageData: Sendable, Equatable {
        /// File offset of the first pixel.
        let start: UInt64
        /// Bytes of one page.
        let pageBytes: Int
        /// The file's byte order differs from this machine's.
        let byteSwapped: Bool
    }

    /// Reads every directory of `path`, validates each full-resolution page's layout and checks
    /// that its strips or tiles lie inside the file.
    /// - Throws: `.notFound`, `.truncated` (also for a directory chain cut short),
    ///   `.unreadable`, `.unsupportedLayout`, `.tooLarge`.
    init(path: String, memoryBudget: Int, firstPageOnly: Bool = false) throws(ImagingError) {
        guard let probe = FileProbe(path: path) else {
            throw FileProbe.openError(path)
        }
        self.path = path
        fileSize = probe.size
        let handle = try TIFFHandle(path: path, mode: "rm", maximumAllocation: memoryBudget)
        let tiff = handle.tiff
        var pages: [(index: Int, offset: UInt64, layout: TIFFPageLayout)] = []
        var index = 0
        var firstPageData: ContiguousPageData?
        while true {
            var info = ctiff_page_info()
            let reduced = ctiff_read_page_info(tiff, &info) == 1 && (info.subfile_type & UInt32(FILETYPE_REDUCEDIMAGE)) != 0
            if !reduced {
                pages.append((index, TIFFCurrentDirOffset(tiff), try TIFFPageLayout(tiff: tiff, path: path, page: index, memoryBudget: memoryBudget)))
                // A file still being copied is caught here, before any pixel is decoded.
                try TIFFPageDecoder.checkDataInsideFile(tiff, path: path, page: index, fileSize: fileSize)
                if index == 0 { firstPageData = Self.contiguousData(tiff, layout: pages[0].layout, compression: info.compression) }
            }
            if firstPageOnly && !pages.isEmpty { break }
            handle.clearMessages()
            if TIFFReadDirectory(tiff) == 0 {
                let message = handle.errorMessage
                if !message.isEmpty {
                    // libtiff returns 0 both at the end of the chain and on a damaged directory.
                    let cut = message.lowercased().contains("cannot read") || message.lowercased().contains("can not read")
                        || message.lowercased().contains("seek") || message.lowercased().contains("end of file")
                    throw ImagingError(cut ? .truncated : .unreadable, path: path, page: index + 1,
                                       message: "cannot read the directory after page \(index) (libtiff: \(message)); the file is \(cut ? "incomplete, copy it again" : "corrupt, re-export it")")
                }
                break
            }
            index += 1
        }
        directoryCount = firstPageOnly ? Int(TIFFNumberOfDirectories(tiff)) : index + 1
        self.pages = pages
        self.firstPageData = firstPageData
    }

    private static func contiguousData(_ tiff: OpaquePointer, layout: TIFFPageLayout, compression: UInt16) -> ContiguousPageData? {
        guard Int32(compression) == COMPRESSION_NONE, !layout.tiled, !layout.planar else { return nil }
        let pageBytes = layout.width * layout.height * layout.samplesPerPixel * layout.bytesPerSample
        let start = TIFFGetStrileOffset(tiff, 0)
        var end = start
        for strip in 0..<TIFFNumberOfStrips(tiff) {
            guard TIFFGetStrileOffset(tiff, strip) == end else { return nil }
            end &+= TIFFGetStrileByteCount(tiff, strip)
        }
        guard end &- start == UInt64(pageBytes) else { return nil }
        return ContiguousPageData(start: start, pageBytes: pageBytes, byteSwapped: TIFFIsByteSwapped(tiff) != 0)
    }

    /// Decodes page `index` (an IFD index), checking that it still has `expected` geometry.
    /// `offset`, the directory's file offset when known, avoids walking the chain of directories
    /// (which would make reading every page of an N-page file O(N²)).
    /// `reusing` is an open handle on `path` positioned anywhere (libtiff then knows every
    /// directory's offset, so the jump is O(1)); without it the file is opened for this call.
    static func decodePage(path: String, index: Int, offset: UInt64? = nil, expected: SliceGeometry?,
                           memoryBudget: Int, reusing reusable: TIFFHandle? = nil) throws(ImagingError) -> (Image, TIFFPageLayout) {
        guard let probe = FileProbe(path: path) else {
            throw FileProbe.openError(path, page: index)
        }
        let handle: TIFFHandle
        if let reusable { handle = reusable } else { handle = try TIFFHandle(path: path, mode: "rm", maximumAllocation: memoryBudget) }
        handle.clearMessages()
        if index > 0 || reusable != nil {
            let reached = offset.map { $0 > 0 && $0 < UInt64(probe.size) && TIFFSetSubDirectory(handle.tiff, $0) == 1 } ?? false
            guard reached || TIFFSetDirectory(handle.tiff, UInt32(index)) == 1 else {
                throw ImagingError(.truncated, path: path, page: index,
                                   message: "cannot reach page \(index) (libtiff: \(handle.errorMessage)); the file changed or is incomplete")
            }
        }
        let layout = try TIFFPageLayout(tiff: handle.tiff, path: path, page: index, memoryBudget: memoryBudget)
        if let expected, let difference = SliceGeometry.difference(layout.geometry, expected) {
            throw ImagingError(.mismatchedSlices, path: path, page: index,
                               message: "its \(difference.property) is now \(difference.value), not \(difference.reference) (the file changed after the stack was opened); open the stack again")
        }
        return (try TIFFPageDecoder.decode(handle, layout: layout, page: index, fileSize: probe.size), layout)
    }
}

extension SliceGeometry {
    /// The first property in which `a` differs from `b`, with both values, e.g.
    /// ("width", "512", "600").
    static func difference(_ a: SliceGeometry, _ b: SliceGeometry) -> (property: String, value: String, reference: String)? {
        if a.width != b.width { return ("width", "\(a.width)", "\(b.width)") }
        if a.height != b.height { return ("height", "\(a.height)", "\(b.height)") }
        if a.channels != b.channels { return ("channel count", "\(a.channels)", "\(b.channels)") }
        if a.format != b.format { return ("sample format", a.format.rawValue, b.format.rawValue) }
        return nil
    }

    static let sharedPropertiesAdvice = "all slices of a stack must share width, height, channels and sample format"
}
