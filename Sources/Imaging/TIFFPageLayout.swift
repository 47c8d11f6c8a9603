import CTIFF

/// How one TIFF page stores its pixels, checked against what focusd reads: 8/16-bit unsigned or
/// 32-bit float samples, grey or RGB (extra samples such as alpha are dropped), chunky or planar,
/// strips or tiles, any compression this libtiff decodes.
struct TIFFPageLayout: Sendable, Equatable {
    let width: Int
    let height: Int
    /// Samples stored per pixel (including dropped extra samples).
    let samplesPerPixel: Int
    /// Channels focusd returns: 1 (grey) or 3 (RGB).
    let channels: Int
    let format: SampleFormat
    let planar: Bool
    let tiled: Bool
    let tileWidth: Int
    let tileHeight: Int
    let rowsPerStrip: Int
    /// MinIsWhite: integer values are inverted on reading so that larger means brighter.
    let invertsGrey: Bool
    /// YCbCr JPEG-in-TIFF: the JPEG codec is asked for RGB output.
    let decodesJPEGAsRGB: Bool
    /// A reduced-resolution copy (thumbnail / pyramid level), not a slice.
    let isReducedResolution: Bool
    let metadata: ImageMetadata

    var geometry: SliceGeometry { SliceGeometry(width: width, height: height, channels: channels, format: format) }

    var bytesPerSample: Int { format.bitsPerSample / 8 }

    /// Samples of one pixel in one decoded strip/tile row: all of them (chunky) or one (planar).
    var samplesPerStoredPixel: Int { planar ? 1 : (decodesJPEGAsRGB ? 3 : samplesPerPixel) }

    /// Reads and validates the current directory.
    /// - Throws: `.unsupportedLayout` for layouts focusd does not read, `.unreadable` for a
    ///   directory without width/height, `.tooLarge` when a page or strip exceeds `memoryBudget`.
    init(tiff: OpaquePointer, path: String, page: Int, memoryBudget: Int) throws(ImagingError) {
        var info = ctiff_page_info()
        guard ctiff_read_page_info(tiff, &info) == 1 else {
            throw ImagingError(.unreadable, path: path, page: page, message: "the page has no image width or length tag; the file is corrupt")
        }
        func unsupported(_ what: String, _ todo: String = "convert to 8/16-bit grey or RGB") -> ImagingError {
            ImagingError(.unsupportedLayout, path: path, page: page, message: "\(what) is not supported; \(todo)")
        }
        width = Int(info.width)
        height = Int(info.height)
        samplesPerPixel = Int(info.samples_per_pixel)
        guard width > 0, height > 0 else {
            throw ImagingError(.unreadable, path: path, page: page, message: "the page is \(width)×\(height) pixels; the file is corrupt")
        }
        guard samplesPerPixel >= 1 else {
            throw ImagingError(.unreadable, path: path, page: page, message: "the page has 0 samples per pixel; the file is corrupt")
        }
        guard samplesPerPixel <= 4 else {
            throw unsupported("\(samplesPerPixel) samples per pixel (multi-channel in one page)", "convert to grey or RGB pages, one channel per page")
        }

        let bits = Int(info.bits_per_sample)
        switch (bits, Int32(info.sample_format)) {
        case (8, SAMPLEFORMAT_UINT), (8, SAMPLEFORMAT_VOID): format = .uint8
        case (16, SAMPLEFORMAT_UINT), (16, SAMPLEFORMAT_VOID): format = .uint16
        case (32, SAMPLEFORMAT_IEEEFP): format = .float32
        case (1, _): throw unsupported("a 1-bit (bilevel) image", "convert to 8-bit grey")
        case (_, SAMPLEFORMAT_INT): throw unsupported("\(bits)-bit signed integer samples", "convert to 16-bit unsigned or 32-bit float")
        case (_, SAMPLEFORMAT_COMPLEXINT), (_, SAMPLEFORMAT_COMPLEXIEEEFP): throw unsupported("complex samples", "convert to 32-bit float magnitudes")
        case (16, SAMPLEFORMAT_IEEEFP): throw unsupported("16-bit (half) float samples", "convert to 32-bit float")
        case (64, SAMPLEFORMAT_IEEEFP): throw unsupported("64-bit float samples", "convert to 32-bit float")
        case (32, _): throw unsupported("32-bit integer samples", "convert to 16-bit unsigned or 32-bit float")
        default: throw unsupported("\(bits)-bit (packed) samples", "convert to 8/16-bit grey or RGB")
        }

        let extras = Int(info.extra_samples)
        var jpegRGB = false
        var invert = false
        switch Int32(info.photometric) {
        case PHOTOMETRIC_MINISBLACK, PHOTOMETRIC_MINISWHITE:
            guard samplesPerPixel == 1 || extras >= samplesPerPixel - 1 || samplesPerPixel == 2 else {
                throw unsupported("a grey image with \(samplesPerPixel) samples per pixel", "convert to one grey channel per page")
            }
            channels = 1
            if Int32(info.photometric) == PHOTOMETRIC_MINISWHITE {
                guard format != .float32 else { throw unsupported("a MinIsWhite float image", "convert to MinIsBlack") }
                invert = true
            }
        case PHOTOMETRIC_RGB:
            guard samplesPerPixel >= 3 else {
                throw ImagingError(.unreadable, path: path, page: page, message: "an RGB page with \(samplesPerPixel) samples per pixel; the file is corrupt")
            }
            channels = 3
        case PHOTOMETRIC_YCBCR where Int32(info.compression) == COMPRESSION_JPEG && format == .uint8 && samplesPerPixel == 3:
            guard ctiff_set_jpeg_rgb_output(tiff) == 1 else {
                throw unsupported("a YCbCr JPEG-compressed page this libtiff cannot convert to RGB", "convert to RGB")
            }
            channels = 3
            jpegRGB = true
        case PHOTOMETRIC_PALETTE: throw unsupported("a palette (indexed colour) image")
        case PHOTOMETRIC_SEPARATED: throw unsupported("a CMYK (separated) image", "convert to RGB")
        case PHOTOMETRIC_YCBCR: throw unsupported("a YCbCr image that is not JPEG-compressed", "convert to RGB")
        case 0xFFFF: channels = samplesPerPixel >= 3 ? 3 : 1 // no Photometric tag: guess from the samples
        default: throw unsupported("photometric interpretation \(info.photometric) (e.g. CIELab, LogLuv)", "convert to grey or RGB")
        }
        invertsGrey = invert
        decodesJPEGAsRGB = jpegRGB

        guard TIFFIsCODECConfigured(info.compression) != 0 else {
            throw unsupported("compression scheme \(info.compression), which this libtiff cannot decode,", "re-save uncompressed, LZW or Deflate")
        }
        planar = Int32(info.planar_config) == PLANARCONFIG_SEPARATE && samplesPerPixel > 1
        tiled = info.is_tiled != 0
        tileWidth = Int(info.tile_width)
        tileHeight = Int(info.tile_height)
        rowsPerStrip = max(1, min(Int(info.rows_per_strip), height))
        isReducedResolution = (info.subfile_type & UInt32(FILETYPE_REDUCEDIMAGE)) != 0

        // Memory: the decoded Float32 page, checked before anything is allocated.
        let decoded = width.multipliedReportingOverflow(by: height)
        let decodedBytes = decoded.partialValue.multipliedReportingOverflow(by: channels * MemoryLayout<Float>.size)
        if decoded.overflow || decodedBytes.overflow || decodedBytes.partialValue > memoryBudget {
            throw ImagingError(.tooLarge, path: path, page: page,
                               message: "a \(width)×\(height)×\(channels) page needs more than the memory budget of \(memoryBudget >> 20) MiB; crop or tile the image, or raise the budget")
        }
        // Strip or tile buffer: it may not exceed the budget or be absurdly larger than the page.
        let blockRows = tiled ? tileHeight : rowsPerStrip
        let blockColumns = tiled ? tileWidth : width
        if tiled && (tileWidth <= 0 || tileHeight <= 0) {
            throw ImagingError(.unreadable, path: path, page: page, message: "tile size \(tileWidth)×\(tileHeight) is invalid; the file is corrupt")
        }
        let blockBytes = blockRows.multipliedReportingOverflow(by: blockColumns)
        let blockTotal = blockBytes.partialValue.multipliedReportingOverflow(by: samplesPerPixel * (format.bitsPerSample / 8))
        let pageRawBytes = width * height * samplesPerPixel * (format.bitsPerSample / 8)
        if blockBytes.overflow || blockTotal.overflow || blockTotal.partialValue > memoryBudget
            || blockTotal.partialValue > 4 * pageRawBytes + (16 << 20) {
            throw ImagingError(.tooLarge, path: path, page: page,
                               message: "\(tiled ? "tile" : "strip") size \(blockColumns)×\(blockRows) is absurd for a \(width)×\(height) page; the file is corrupt or hostile")
        }

        var metadata = ImageMetadata()
        if info.has_resolution != 0, info.x_resolution > 0, info.y_resolution > 0 {
            metadata.xResolution = Double(info.x_resolution)
            metadata.yResolution = Double(info.y_resolution)
            metadata.resolutionUnit = Int(info.resolution_unit)
        }
        if let text = info.image_description {
            metadata.imageDescription = String(cString: text)
        }
        self.metadata = metadata
    }
}
