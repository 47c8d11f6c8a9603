import CImageCodecs
import Foundation
import Testing
@testable import Imaging

/// Writes `image` as a PNG through libpng (test encoder in the C shim). `colorType` defaults to
/// grey or RGB by channel count; the samples are the image's, interleaved.
func writePNG(_ path: String, image: Image, bitDepth: Int, colorType: Int32? = nil, palette: [UInt8] = [], transparentIndex: Int32 = -1) throws {
    let type = colorType ?? [1: 0, 2: 4, 3: 2, 4: 6][image.channels]!
    var interleaved = [Float](repeating: 0, count: image.pixels.count)
    for c in 0..<image.channels { for i in 0..<image.planeSize { interleaved[i * image.channels + c] = image.pixels[c * image.planeSize + i] } }
    var error = [CChar](repeating: 0, count: 256)
    let status: Int32
    if bitDepth == 16 {
        let samples = interleaved.map { UInt16($0) }
        status = cic_png_write(path, UInt32(image.width), UInt32(image.height), type, 16, samples, palette, Int32(palette.count / 3), transparentIndex, &error, 256)
    } else {
        let samples = interleaved.map { UInt8($0) }
        status = cic_png_write(path, UInt32(image.width), UInt32(image.height), type, 8, samples, palette, Int32(palette.count / 3), transparentIndex, &error, 256)
    }
    if status != CIC_OK { throw RawTIFFError(message: String(decoding: error.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
}

func writeJPEG(_ path: String, image: Image, quality: Int32 = 100) throws {
    var interleaved = [UInt8](repeating: 0, count: image.pixels.count)
    for c in 0..<image.channels { for i in 0..<image.planeSize { interleaved[i * image.channels + c] = UInt8(image.pixels[c * image.planeSize + i]) } }
    var error = [CChar](repeating: 0, count: 256)
    guard cic_jpeg_write(path, UInt32(image.width), UInt32(image.height), Int32(image.channels), quality, interleaved, &error, 256) == CIC_OK else {
        throw RawTIFFError(message: String(decoding: error.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

@Suite struct CodecTests {
    @Test(arguments: [(1, 8), (1, 16), (3, 8), (3, 16)])
    func pngGreyAndRGBAreExact(channels: Int, bitDepth: Int) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let format: SampleFormat = bitDepth == 16 ? .uint16 : .uint8
        let image = patternImage(width: 33, height: 17, channels: channels, format: format)
        try writePNG(folder.file("a.png"), image: image, bitDepth: bitDepth)
        let read = try ImageFile.read(folder.file("a.png"))
        #expect(read.format == format)
        #expect(firstDifference(read.image, image) == nil)
    }

    @Test func pngAlphaIsDroppedAndPaletteExpanded() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let greyAlpha = patternImage(width: 9, height: 5, channels: 2, format: .uint16)
        try writePNG(folder.file("ga.png"), image: greyAlpha, bitDepth: 16)
        #expect(try ImageFile.read(folder.file("ga.png")).image == greyAlpha.channel(0))
        let rgba = patternImage(width: 9, height: 5, channels: 4, format: .uint8)
        try writePNG(folder.file("rgba.png"), image: rgba, bitDepth: 8)
        let rgb = try ImageFile.read(folder.file("rgba.png"))
        #expect(rgb.image == Image(width: 9, height: 5, channels: 3, pixels: Array(rgba.pixels[0..<(3 * 45)])))

        // Palette: index i is colour (i, 2i, 255 - i).
        let palette = (0..<16).flatMap { [UInt8($0), UInt8(2 * $0), UInt8(255 - $0)] }
        let indices = Image(width: 8, height: 2, channels: 1, pixels: (0..<16).map { Float($0) })
        try writePNG(folder.file("p.png"), image: indices, bitDepth: 8, colorType: 3, palette: palette, transparentIndex: 5)
        let expanded = try ImageFile.read(folder.file("p.png"))
        #expect(expanded.format == .uint8)
        #expect(expanded.image.channels == 3)
        #expect(expanded.image.channel(0).pixels == (0..<16).map { Float($0) })
        #expect(expanded.image.channel(1).pixels == (0..<16).map { Float(2 * $0) })
        #expect(expanded.image.channel(2).pixels == (0..<16).map { Float(255 - $0) })
    }

    @Test(arguments: [1, 3])
    func jpegReadsCloseToWhatWasWritten(channels: Int) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        var image = Image(width: 48, height: 40, channels: channels)
        for c in 0..<channels { for y in 0..<40 { for x in 0..<48 { image[x, y, c] = Float(20 + 2 * x + 2 * y + 20 * c) } } }
        try writeJPEG(folder.file("a.jpg"), image: image)
        let read = try ImageFile.read(folder.file("a.jpg"))
        #expect(read.format == .uint8)
        #expect(read.image.channels == channels && read.image.width == 48 && read.image.height == 40)
        let worst = zip(read.image.pixels, image.pixels).map { abs($0 - $1) }.max()!
        #expect(worst <= 4, "largest JPEG error \(worst)")
    }

    @Test func folderOfPNGsIsNaturallyOrderedAndSkipsOtherFiles() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        for k in [1, 2, 10, 3] {
            try writePNG(folder.file("slice_\(k).png"), image: Image(width: 4, height: 3, channels: 1, repeating: Float(k)), bitDepth: 8)
        }
        try writePNG(folder.file(".slice_0.png"), image: Image(width: 9, height: 9, channels: 1), bitDepth: 8)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.file("readme.txt")))
        try FileManager.default.createDirectory(atPath: folder.file("sub.png"), withIntermediateDirectories: false)
        let stack = try #require(try StackLoader().open([folder.path]).first)
        #expect(stack.count == 4)
        #expect(try (0..<4).map { try stack.slice(at: $0).pixels[0] } == [1, 2, 3, 10])
        #expect(stack.sliceName(at: 3) == folder.file("slice_10.png"))
    }
}

@Suite struct NaturalOrderTests {
    @Test func numbersCompareByValue() {
        let names = ["slice_10.tif", "slice_2.tif", "Slice_3.tif", "slice_1.tif", "slice_002b.tif", "a.tif", "slice_0010.tif", "z9", "z10x"]
        #expect(names.sorted(by: NaturalOrder.areInIncreasingOrder)
                == ["a.tif", "slice_1.tif", "slice_2.tif", "slice_002b.tif", "Slice_3.tif", "slice_10.tif", "slice_0010.tif", "z9", "z10x"])
        #expect(NaturalOrder.areInIncreasingOrder("img99999999999999999999", "img100000000000000000000"))
        #expect(!NaturalOrder.areInIncreasingOrder("b", "a"))
    }
}
