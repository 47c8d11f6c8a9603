import CTIFF
import Testing
@testable import Imaging

/// Files written directly with libtiff in layouts our writer does not produce, read by the reader.
@Suite struct TIFFLayoutTests {
    struct Layout: CustomStringConvertible, Sendable {
        var planar: Bool
        var tiled: Bool
        var compression: Int32
        var description: String { "\(planar ? "planar" : "chunky") \(tiled ? "tiles" : "strips") compression \(compression)" }
    }

    static let layouts: [Layout] = [false, true].flatMap { planar in
        [false, true].flatMap { tiled in
            [COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE].map { Layout(planar: planar, tiled: tiled, compression: $0) }
        }
    }

    @Test(arguments: [SampleFormat.uint8, .uint16, .float32], layouts)
    func everyLayoutReadsExactly(format: SampleFormat, layout: Layout) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        for channels in [1, 3] {
            // 37×29 with 16×16 tiles or 5-row strips: partial tiles and a short last strip.
            let image = patternImage(width: 37, height: 29, channels: channels, format: format, seed: UInt64(channels))
            var page = RawPage(width: 37, height: 29, samplesPerPixel: channels, bitsPerSample: format.bitsPerSample,
                               sampleFormat: format == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT,
                               photometric: channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK,
                               planar: layout.planar, compression: layout.compression, samples: chunkySamples(image))
            if layout.tiled { page.tile = (16, 16) } else { page.rowsPerStrip = 5 }
            let path = folder.file("\(channels).tif")
            try writeRawTIFF(path, pages: [page])
            let read = try ImageFile.read(path)
            #expect(read.format == format)
            #expect(firstDifference(read.image, image) == nil, "\(layout) with \(channels) channel(s)")
        }
    }

    @Test(arguments: [(SampleFormat.uint16, PREDICTOR_HORIZONTAL, COMPRESSION_LZW), (.uint8, PREDICTOR_HORIZONTAL, COMPRESSION_ADOBE_DEFLATE),
                      (.float32, PREDICTOR_FLOATINGPOINT, COMPRESSION_ADOBE_DEFLATE), (.float32, PREDICTOR_FLOATINGPOINT, COMPRESSION_LZW)])
    func predictorsAreUndone(format: SampleFormat, predictor: Int32, compression: Int32) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 40, height: 20, channels: 3, format: format)
        for tiled in [false, true] {
            var page = RawPage(width: 40, height: 20, samplesPerPixel: 3, bitsPerSample: format.bitsPerSample,
                               sampleFormat: format == .float32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT, photometric: PHOTOMETRIC_RGB,
                               rowsPerStrip: 7, compression: compression, samples: chunkySamples(image)) { tiff in
                ctiff_set_u16(tiff, UInt32(TIFFTAG_PREDICTOR), UInt16(predictor))
            }
            if tiled { page.tile = (16, 16) }
            try writeRawTIFF(folder.file("p.tif"), pages: [page])
            #expect(firstDifference(try ImageFile.read(folder.file("p.tif")).image, image) == nil, "tiled \(tiled)")
        }
    }

    @Test func bigTIFFWrittenByLibtiffReads() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 20, height: 10, channels: 1, format: .uint16)
        let pages = (0..<3).map { _ in RawPage(width: 20, height: 10, bitsPerSample: 16, rowsPerStrip: 3, samples: chunkySamples(image)) }
        try writeRawTIFF(folder.file("big.tif"), pages: pages, bigTIFF: true)
        #expect(rawPageInfo(folder.file("big.tif"))?.bigTIFF == true)
        let stack = try #require(try StackLoader().open([folder.file("big.tif")]).first)
        #expect(stack.count == 3)
        #expect(try stack.slice(at: 2) == image)
    }

    @Test func ourWriterMakesBigTIFFWhenForcedOrLarge() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 16, height: 8, channels: 3, format: .uint16)
        try TIFFWriter.write([image], format: .uint16, to: folder.file("forced.tif"), forceBigTIFF: true)
        #expect(rawPageInfo(folder.file("forced.tif"))?.bigTIFF == true)
        #expect(try ImageFile.read(folder.file("forced.tif")).image == image)
        // The automatic switch, with the threshold lowered from 4 GB to a few bytes.
        var options = TIFFWriter.Options()
        options.bigTIFFThreshold = 100
        try TIFFWriter.write([image], format: .uint16, metadata: ImageMetadata(), to: folder.file("auto.tif"), software: "focusd", options: options)
        #expect(rawPageInfo(folder.file("auto.tif"))?.bigTIFF == true)
        try TIFFWriter.write([image], format: .uint16, to: folder.file("small.tif"))
        #expect(rawPageInfo(folder.file("small.tif"))?.bigTIFF == false)
    }

    @Test func extraSamplesAreDropped() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let rgba = patternImage(width: 9, height: 7, channels: 4, format: .uint8)
        try writeRawTIFF(folder.file("rgba.tif"), pages: [RawPage(width: 9, height: 7, samplesPerPixel: 4, photometric: PHOTOMETRIC_RGB,
                                                                  extraSamples: [UInt16(EXTRASAMPLE_UNASSALPHA)], samples: chunkySamples(rgba))])
        let rgb = try ImageFile.read(folder.file("rgba.tif")).image
        #expect(rgb == Image(width: 9, height: 7, channels: 3, pixels: Array(rgba.pixels[0..<(3 * 63)])))

        let greyAlpha = patternImage(width: 9, height: 7, channels: 2, format: .uint16)
        try writeRawTIFF(folder.file("ga.tif"), pages: [RawPage(width: 9, height: 7, samplesPerPixel: 2, bitsPerSample: 16, planar: true,
                                                                extraSamples: [UInt16(EXTRASAMPLE_ASSOCALPHA)], samples: chunkySamples(greyAlpha))])
        #expect(try ImageFile.read(folder.file("ga.tif")).image == greyAlpha.channel(0))
    }

    @Test func minIsWhiteIsInverted() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 8, height: 4, channels: 1, format: .uint8)
        try writeRawTIFF(folder.file("w.tif"), pages: [RawPage(width: 8, height: 4, photometric: PHOTOMETRIC_MINISWHITE, samples: chunkySamples(image))])
        #expect(try ImageFile.read(folder.file("w.tif")).image.pixels == image.pixels.map { 255 - $0 })
    }

    @Test func yCbCrJPEGInTIFFDecodesToRGB() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // A smooth colour ramp survives JPEG closely.
        var image = Image(width: 32, height: 32, channels: 3)
        for y in 0..<32 { for x in 0..<32 { image[x, y, 0] = Float(40 + 4 * x); image[x, y, 1] = Float(60 + 3 * y); image[x, y, 2] = 128 } }
        let page = RawPage(width: 32, height: 32, samplesPerPixel: 3, photometric: PHOTOMETRIC_YCBCR, rowsPerStrip: 16,
                           compression: COMPRESSION_JPEG, samples: chunkySamples(image)) { tiff in
            ctiff_set_u16(tiff, UInt32(TIFFTAG_JPEGCOLORMODE), UInt16(JPEGCOLORMODE_RGB))
            ctiff_set_u16(tiff, UInt32(TIFFTAG_JPEGQUALITY), 95)
        }
        try writeRawTIFF(folder.file("jpeg.tif"), pages: [page])
        let read = try ImageFile.read(folder.file("jpeg.tif"))
        #expect(read.image.channels == 3 && read.format == .uint8)
        let error = zip(read.image.pixels, image.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(image.pixels.count)
        #expect(error < 3, "mean absolute error \(error)")
    }

    @Test func reducedResolutionPagesAreNotSlices() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let a = patternImage(width: 12, height: 6, channels: 1, format: .uint8, seed: 1)
        let b = patternImage(width: 12, height: 6, channels: 1, format: .uint8, seed: 2)
        let thumbnail = RawPage(width: 3, height: 2, subfileType: UInt32(FILETYPE_REDUCEDIMAGE), samples: [Double](repeating: 7, count: 6))
        try writeRawTIFF(folder.file("s.tif"), pages: [RawPage(width: 12, height: 6, samples: chunkySamples(a)), thumbnail,
                                                       RawPage(width: 12, height: 6, samples: chunkySamples(b))])
        let stack = try #require(try StackLoader().open([folder.file("s.tif")]).first as? TIFFPageStack)
        #expect(stack.pages == [0, 2])
        #expect(try stack.slice(at: 1) == b)
    }

    @Test func multiPageFloatWriteReadsAsStack() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let pages = (0..<3).map { patternImage(width: 10, height: 5, channels: 1, format: .float32, seed: UInt64($0)) }
        try TIFFWriter.write(pages, format: .float32, to: folder.file("m.tif"))
        let stack = try #require(try StackLoader().open([folder.file("m.tif")]).first)
        #expect(stack.count == 3 && stack.metadata.pageCount == 3)
        #expect(try (0..<3).map { try stack.slice(at: $0) } == pages)
    }

    @Test func writerStoresResolutionSoftwareAndCompression() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let metadata = ImageMetadata(xResolution: 2.5, yResolution: 4, resolutionUnit: 3, imageDescription: "plain text kept")
        try TIFFWriter.write([patternImage(width: 5, height: 5, channels: 1, format: .uint8)], format: .uint8, metadata: metadata,
                             to: folder.file("r.tif"), software: "focusd 9.9")
        let raw = try #require(rawPageInfo(folder.file("r.tif")))
        #expect(raw.software == "focusd 9.9")
        #expect(raw.description == "plain text kept")
        #expect(Int32(raw.info.compression) == COMPRESSION_ADOBE_DEFLATE)
        let read = try ImageFile.read(folder.file("r.tif")).metadata
        #expect(read.xResolution == 2.5 && read.yResolution == 4 && read.resolutionUnit == 3)
    }

    @Test func pagesOfALongStackReadInAnyOrderAndConcurrently() async throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // Page k is constant k: any mix-up between pages shows.
        let pages = (0..<300).map { Image(width: 8, height: 4, channels: 1, repeating: Float($0)) }
        try TIFFWriter.write(pages, format: .uint16, to: folder.file("long.tif"))
        let stack = try #require(try StackLoader().open([folder.file("long.tif")]).first)
        #expect(stack.count == 300)
        for k in [299, 0, 150, 151, 149, 7, 298] {
            #expect(try stack.slice(at: k).pixels == [Float](repeating: Float(k), count: 32))
        }
        let values = try await withThrowingTaskGroup(of: (Int, Float).self) { group in
            for k in stride(from: 0, to: 300, by: 3) {
                group.addTask { (k, try stack.slice(at: k).pixels[31]) }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(values.count == 100 && values.allSatisfy { Float($0.key) == $0.value })
    }
}
