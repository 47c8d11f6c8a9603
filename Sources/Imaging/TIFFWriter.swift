#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CImageCodecs
import CTIFF
import SystemCalls

/// Writes TIFF files: one page per image, chunky strips, Deflate, atomically.
public enum TIFFWriter {
    /// Writes `pages` (all one geometry) atomically. `metadata.imageDescription` is carried with Z set to 1.
    ///
    /// - Samples are stored as `format`: integer formats are rounded half away from zero and
    ///   clamped to 0…255 / 0…65535 (NaN becomes 0); float32 is stored as is.
    /// - 1-channel pages are MinIsBlack grey, 3-channel pages RGB.
    /// - Deflate with the horizontal predictor for integers; BigTIFF when the pixel data exceeds
    ///   ~4 GiB or when `forceBigTIFF` is set.
    /// - Resolution tags from `metadata`; the ImageDescription (ImageJ header or OME-XML) on the
    ///   first page, rewritten for a single Z position (`slices=1` / `SizeZ="1"`); `software` as
    ///   the Software tag (e.g. "focusd 0.1.0").
    /// - Atomic: written to `.<name>.tmp-<pid>-<random>` in the same folder, fsynced, renamed over
    ///   `path`, then the folder is fsynced; on any error the temporary file is removed and `path`
    ///   is untouched.
    /// - Throws: `ImagingError` of kind `.writeFailed` naming the file and the cause.
    public static func write(_ pages: [Image], format: SampleFormat, metadata: ImageMetadata = ImageMetadata(),
                             to path: String, software: String = "focusd", forceBigTIFF: Bool = false) throws(ImagingError) {
        var options = Options()
        options.forceBigTIFF = forceBigTIFF
        try write(pages, format: format, metadata: metadata, to: path, software: software, options: options)
    }

    /// Writes `pages` as `write` does, but stops before the rename: the complete, fsynced file is left
    /// under a hidden temporary name in `path`'s folder (`.<name>.tmp-<pid>-<random>`), which is
    /// returned. The caller renames it into place — with the other files of an output set, so a
    /// set appears all at once — or removes it. On error nothing is left behind.
    /// - Throws: `ImagingError` of kind `.writeFailed` naming the file and the cause.
    public static func writeStaged(_ pages: [Image], format: SampleFormat, metadata: ImageMetadata = ImageMetadata(),
                                   for path: String, software: String = "focusd") throws(ImagingError) -> String {
        var options = Options()
        options.renameIntoPlace = false
        return try write(pages, format: format, metadata: metadata, to: path, software: software, options: options)
    }

    /// Layout choices beyond the public defaults (used by tests).
    struct Options {
        var compression: UInt16 = UInt16(COMPRESSION_ADOBE_DEFLATE)
        var forceBigTIFF = false
        /// Write the ImageDescription as given instead of adapting it to a fused output (tests that
        /// make ImageJ hyperstacks).
        var verbatimDescription = false
        /// Pixel bytes above which BigTIFF is used automatically (classic TIFF offsets are 32-bit).
        var bigTIFFThreshold = 4_000_000_000
        /// Rename the finished temporary file over the target (false: leave it for the caller).
        var renameIntoPlace = true
    }

    /// Returns the path of the finished file: `path`, or the temporary file when not renamed into place.
    @discardableResult
    static func write(_ pages: [Image], format: SampleFormat, metadata: ImageMetadata, to path: String,
                      software: String, options: Options) throws(ImagingError) -> String {
        guard let first = pages.first else {
            throw ImagingError(.writeFailed, path: path, message: "no image to write")
        }
        guard first.channels == 1 || first.channels == 3 else {
            throw ImagingError(.writeFailed, path: path, message: "cannot write \(first.channels)-channel pages; give grey (1) or RGB (3) images")
        }
        for (index, page) in pages.enumerated() where page.width != first.width || page.height != first.height || page.channels != first.channels {
            throw ImagingError(.writeFailed, path: path, page: index,
                               message: "page is \(page.width)×\(page.height)×\(page.channels) but page 0 is \(first.width)×\(first.height)×\(first.channels); all pages must share one geometry")
        }
        let pixelBytes = pages.count * first.pixels.count * format.bitsPerSample / 8
        let bigTIFF = options.forceBigTIFF || pixelBytes > options.bigTIFFThreshold
        let description = metadata.imageDescription.flatMap {
            options.verbatimDescription ? $0 : outputDescription($0, pageCount: pages.count, samplesPerPage: first.channels, format: format)
        }

        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? "./"
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = folder + ".\(name).tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"

        do throws(ImagingError) {
            let handle: TIFFHandle
            do {
                handle = try TIFFHandle(path: temporary, mode: bigTIFF ? "w8" : "w", maximumAllocation: 0)
            } catch {
                throw ImagingError(.writeFailed, path: path,
                                   message: "cannot create the temporary file \(temporary) (\(error.message)); check that the folder exists and is writable")
            }
            for (index, page) in pages.enumerated() {
                try writePage(page, index: index, handle: handle, format: format, metadata: metadata,
                              description: index == 0 ? description : nil, software: software, options: options, path: path)
            }
            guard handle.flushAndSync() else {
                throw ImagingError(.writeFailed, path: path, message: "cannot flush the file (\(handle.errorMessage), \(SystemCallError.reason(errno))); check free disk space")
            }
            guard handle.close() else {
                throw ImagingError(.writeFailed, path: path, message: "closing the file failed; check free disk space")
            }
            guard options.renameIntoPlace else { return temporary }
            guard rename(temporary, path) == 0 else {
                throw ImagingError(.writeFailed, path: path, message: "cannot rename the temporary file into place (\(SystemCallError.reason(errno))); check permissions")
            }
            syncFolder(folder)
            return path
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private static func writePage(_ page: Image, index: Int, handle: TIFFHandle, format: SampleFormat, metadata: ImageMetadata,
                                  description: String?, software: String, options: Options, path: String) throws(ImagingError) {
        let tiff = handle.tiff
        let channels = page.channels
        let rowBytes = page.width * channels * format.bitsPerSample / 8
        let rowsPerStrip = max(1, min(page.height, (256 << 10) / max(1, rowBytes)))
        var ok = true
        ok = ok && ctiff_set_u32(tiff, UInt32(TIFFTAG_IMAGEWIDTH), UInt32(page.width)) == 1
        ok = ok && ctiff_set_u32(tiff, UInt32(TIFFTAG_IMAGELENGTH), UInt32(page.height)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_BITSPERSAMPLE), UInt16(format.bitsPerSample)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_SAMPLESPERPIXEL), UInt16(channels)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_SAMPLEFORMAT), UInt16(format == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_PHOTOMETRIC), UInt16(channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_PLANARCONFIG), UInt16(PLANARCONFIG_CONTIG)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_ORIENTATION), UInt16(ORIENTATION_TOPLEFT)) == 1
        ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_COMPRESSION), options.compression) == 1
        let compressed = Int32(options.compression) == COMPRESSION_ADOBE_DEFLATE || Int32(options.compression) == COMPRESSION_LZW
        if compressed && format != .float32 {
            ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_PREDICTOR), UInt16(PREDICTOR_HORIZONTAL)) == 1
        }
        ok = ok && ctiff_set_u32(tiff, UInt32(TIFFTAG_ROWSPERSTRIP), UInt32(rowsPerStrip)) == 1
        ok = ok && ctiff_set_string(tiff, UInt32(TIFFTAG_SOFTWARE), software) == 1
        if let x = metadata.xResolution, let y = metadata.yResolution, x > 0, y > 0 {
            ok = ok && ctiff_set_double(tiff, UInt32(TIFFTAG_XRESOLUTION), x) == 1
            ok = ok && ctiff_set_double(tiff, UInt32(TIFFTAG_YRESOLUTION), y) == 1
            ok = ok && ctiff_set_u16(tiff, UInt32(TIFFTAG_RESOLUTIONUNIT), UInt16(metadata.resolutionUnit ?? Int(RESUNIT_NONE))) == 1
        }
        if let description {
            ok = ok && ctiff_set_string(tiff, UInt32(TIFFTAG_IMAGEDESCRIPTION), description) == 1
        }
        guard ok else {
            throw ImagingError(.writeFailed, path: path, page: index, message: "libtiff refused a tag (\(handle.errorMessage))")
        }

        let stripBytes = rowsPerStrip * rowBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: stripBytes, alignment: 16)
        defer { buffer.deallocate() }
        let planeSize = page.width * page.height
        var failed: String?
        page.pixels.withUnsafeBufferPointer { source in
            var strip: UInt32 = 0
            for y in stride(from: 0, to: page.height, by: rowsPerStrip) {
                let rows = min(rowsPerStrip, page.height - y)
                let start = source.baseAddress! + y * page.width
                let count = rows * page.width
                switch format {
                case .uint8: cic_pack_u8(start, planeSize, Int32(channels), count, buffer.assumingMemoryBound(to: UInt8.self))
                case .uint16: cic_pack_u16(start, planeSize, Int32(channels), count, buffer.assumingMemoryBound(to: UInt16.self))
                case .float32: cic_pack_f32(start, planeSize, Int32(channels), count, buffer.assumingMemoryBound(to: Float.self))
                }
                if TIFFWriteEncodedStrip(tiff, strip, buffer, tmsize_t(rows * rowBytes)) < 0 {
                    failed = "strip \(strip): \(handle.errorMessage), \(SystemCallError.reason(errno))"
                    return
                }
                strip += 1
            }
        }
        if let failed {
            throw ImagingError(.writeFailed, path: path, page: index, message: "cannot write \(failed); check free disk space")
        }
        guard TIFFWriteDirectory(tiff) == 1 else {
            throw ImagingError(.writeFailed, path: path, page: index, message: "cannot write the page directory (\(handle.errorMessage)); check free disk space")
        }
    }

    /// The first slice's description rewritten for an output with one Z position: ImageJ
    /// `slices=1`, `images=` the page count; OME-XML `SizeZ="1"`, Z = 0 planes, one TiffData per
    /// page, Type as written. Other descriptions are kept as they are.
    /// The description an output carries: an ImageJ header or OME-XML rewritten for `pageCount`
    /// planes at one Z; a tifffile shape description (JSON such as `{"shape": [5, 128, 128]}`), which
    /// would tell readers to reshape the output into the input's shape, dropped (nil); other text kept.
    static func outputDescription(_ description: String, pageCount: Int, samplesPerPage: Int, format: SampleFormat) -> String? {
        if let imageJ = ImageJDescription(description) {
            return imageJ.forFusedOutput(pageCount: pageCount, format: format).text
        }
        if let ome = OMEDescription(description) {
            return ome.forFusedOutput(pageCount: pageCount, samplesPerPage: samplesPerPage, format: format).xml
        }
        if isShapeDescription(description) { return nil }
        return description
    }

    /// Whether `description` is tifffile's JSON shape metadata.
    static func isShapeDescription(_ description: String) -> Bool {
        let text = description.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return false }
        return text.contains("\"shape\"")
    }


    private static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }
}
