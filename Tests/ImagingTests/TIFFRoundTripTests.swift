import Testing
@testable import Imaging

/// Our writer, then our reader: every sample format and channel count survives exactly.
@Suite struct TIFFRoundTripTests {
    @Test(arguments: [SampleFormat.uint8, .uint16, .float32], [1, 3])
    func writerRoundTripIsExact(format: SampleFormat, channels: Int) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let path = folder.file("out.tif")
        let image = patternImage(width: 37, height: 23, channels: channels, format: format)
        try TIFFWriter.write([image], format: format, to: path, software: "focusd test")
        let read = try ImageFile.read(path)
        #expect(read.format == format)
        #expect(firstDifference(read.image, image) == nil)
        #expect(read.metadata.pageCount == 1)
        // Only the final file is left: the temporary was renamed.
        #expect(folder.contents() == ["out.tif"])
    }

    @Test func integerFormatsAreRoundedAndClamped() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let values: [Float] = [-3, 0.49, 0.5, 1.5, 254.5, 255.2, 300, .nan, 65535.7, 70000, 12.4999, 65534.5]
        let image = Image(width: values.count, height: 1, channels: 1, pixels: values)
        try TIFFWriter.write([image], format: .uint8, to: folder.file("a.tif"))
        #expect(try ImageFile.read(folder.file("a.tif")).image.pixels == [0, 0, 1, 2, 255, 255, 255, 0, 255, 255, 12, 255])
        try TIFFWriter.write([image], format: .uint16, to: folder.file("b.tif"))
        #expect(try ImageFile.read(folder.file("b.tif")).image.pixels == [0, 0, 1, 2, 255, 255, 300, 0, 65535, 65535, 12, 65535])
    }
}
