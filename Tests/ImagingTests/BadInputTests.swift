import CImageCodecs
import CTIFF
import Foundation
import Testing
@testable import Imaging

/// Each class of bad input gives its typed error, naming the file, and never crashes.
@Suite struct BadInputTests {
    /// The error `body` throws, or nil.
    func imagingError(_ body: () throws -> Void) -> ImagingError? {
        do {
            try body()
            return nil
        } catch let error as ImagingError {
            return error
        } catch {
            Issue.record("not an ImagingError: \(error)")
            return nil
        }
    }

    func copyTruncated(_ source: String, to path: String, fraction: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
    }

    @Test func truncatedTIFFs() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // Real files (directory first, data after it): the data runs past the end.
        try copyTruncated(sharedData + "/dev/stacks/dfnn_lightsheet_mitochondria/slice_000.tif", to: folder.file("a.tif"), fraction: 0.5)
        let a = imagingError { _ = try ImageFile.read(folder.file("a.tif")) }
        #expect(a?.kind == .truncated)
        #expect(a?.description.contains(folder.file("a.tif")) == true)
        // Caught when the stack is opened, from the headers alone (a file still being copied).
        let opened = imagingError { _ = try StackLoader().open([folder.file("a.tif")]) }
        #expect(opened?.kind == .truncated)
        // The 3-page original: cut inside the chain of directories or data.
        for fraction in [0.2, 0.5, 0.9] {
            try copyTruncated(sharedData + "/dev/stacks/edf_skeleton_zeiss/original_stack.tif", to: folder.file("b.tif"), fraction: fraction)
            let b = imagingError {
                let stacks = try StackLoader().open([folder.file("b.tif")])
                for stack in stacks { for i in 0..<stack.count { _ = try stack.slice(at: i) } }
            }
            #expect(b?.kind == .truncated, "cut at \(fraction): \(String(describing: b))")
        }
        // Our writer puts the directory after the data: a cut loses the directory.
        try TIFFWriter.write([patternImage(width: 64, height: 64, channels: 1, format: .uint16)], format: .uint16, to: folder.file("c.tif"))
        try copyTruncated(folder.file("c.tif"), to: folder.file("d.tif"), fraction: 0.6)
        #expect(imagingError { _ = try ImageFile.read(folder.file("d.tif")) }?.kind == .truncated)
        // Cut inside the 8-byte header, and an empty file.
        try copyTruncated(folder.file("c.tif"), to: folder.file("e.tif"), fraction: 5.0 / 8192)
        #expect(imagingError { _ = try ImageFile.read(folder.file("e.tif")) }?.kind == .truncated)
        _ = FileManager.default.createFile(atPath: folder.file("empty.tif"), contents: Data())
        #expect(imagingError { _ = try ImageFile.read(folder.file("empty.tif")) }?.kind == .truncated)
    }

    @Test func truncatedPNGAndJPEG() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        try copyTruncated(sharedData + "/dev/lytro/01_A.jpg", to: folder.file("a.jpg"), fraction: 0.5)
        let jpeg = imagingError { _ = try ImageFile.read(folder.file("a.jpg")) }
        #expect(jpeg?.kind == .truncated)
        #expect(jpeg?.path == folder.file("a.jpg"))
        let image = patternImage(width: 40, height: 30, channels: 3, format: .uint8)
        try writePNG(folder.file("p.png"), image: image, bitDepth: 8)
        try copyTruncated(folder.file("p.png"), to: folder.file("q.png"), fraction: 0.5)
        #expect(imagingError { _ = try ImageFile.read(folder.file("q.png")) }?.kind == .truncated)
    }

    @Test func garbageBytes() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        var generator = SystemRandomNumberGenerator()
        let noise = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try noise.write(to: URL(fileURLWithPath: folder.file("noise.tif")))
        #expect(imagingError { _ = try ImageFile.read(folder.file("noise.tif")) }?.kind == .unreadable)
        // Valid magic numbers followed by noise: an error of some kind, never a crash.
        for magic: [UInt8] in [[0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00], [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08],
                               [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0xFF, 0xD8, 0xFF, 0xE0]] {
            for seed in 0..<8 {
                var bytes = Data(magic)
                var state = UInt64(seed + 1)
                for _ in 0..<2048 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    bytes.append(UInt8(truncatingIfNeeded: state >> 40))
                }
                try bytes.write(to: URL(fileURLWithPath: folder.file("g.bin")))
                let error = imagingError {
                    let stacks = try StackLoader(memoryBudgetBytes: 64 << 20).open([folder.file("g.bin")])
                    for stack in stacks { for i in 0..<stack.count { _ = try stack.slice(at: i) } }
                }
                #expect(error != nil, "magic \(magic) seed \(seed) was accepted")
            }
        }
    }

    @Test func unsupportedTIFFLayouts() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let cases: [(String, RawPage, String)] = [
            ("1-bit", RawPage(width: 16, height: 4, bitsPerSample: 1, photometric: PHOTOMETRIC_MINISBLACK), "1-bit"),
            ("palette", RawPage(width: 8, height: 4, photometric: PHOTOMETRIC_PALETTE) { tiff in
                let map = [UInt16](repeating: 0, count: 256)
                ctiff_set_colormap(tiff, map, map, map)
            }, "palette"),
            ("signed", RawPage(width: 8, height: 4, bitsPerSample: 16, sampleFormat: SAMPLEFORMAT_INT), "signed"),
            ("float64", RawPage(width: 8, height: 4, bitsPerSample: 64, sampleFormat: SAMPLEFORMAT_IEEEFP), "64-bit float"),
            ("half", RawPage(width: 8, height: 4, bitsPerSample: 16, sampleFormat: SAMPLEFORMAT_IEEEFP), "half"),
            ("complex", RawPage(width: 8, height: 4, bitsPerSample: 64, sampleFormat: SAMPLEFORMAT_COMPLEXIEEEFP), "complex"),
            ("12-bit", RawPage(width: 8, height: 4, bitsPerSample: 12), "12-bit"),
            ("uint32", RawPage(width: 8, height: 4, bitsPerSample: 32), "32-bit integer"),
            ("cmyk", RawPage(width: 8, height: 4, samplesPerPixel: 4, photometric: PHOTOMETRIC_SEPARATED), "CMYK"),
            ("5 samples", RawPage(width: 8, height: 4, samplesPerPixel: 5, photometric: PHOTOMETRIC_RGB, extraSamples: [0, 0]), "5 samples"),
            ("multi-channel grey", RawPage(width: 8, height: 4, samplesPerPixel: 3), "grey image with 3 samples"),
        ]
        for (name, page, phrase) in cases {
            let path = folder.file("\(name).tif")
            try writeRawTIFF(path, pages: [page])
            let error = imagingError { _ = try StackLoader().open([path]) }
            #expect(error?.kind == .unsupportedLayout, "\(name): \(String(describing: error))")
            #expect(error?.message.contains(phrase) == true, "\(name): \(String(describing: error))")
            #expect(error?.page == 0 && error?.path == path)
            #expect(error?.message.contains("convert") == true, "\(name): the message says what to do: \(String(describing: error))")
        }
    }

    /// A little-endian classic TIFF with one directory of (tag, type, value) entries (values inline).
    func minimalTIFF(_ entries: [(tag: UInt16, type: UInt16, value: UInt32)]) -> Data {
        var data = Data([0x49, 0x49, 42, 0, 8, 0, 0, 0])
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        append(UInt16(entries.count))
        for entry in entries.sorted(by: { $0.tag < $1.tag }) {
            append(entry.tag); append(entry.type); append(UInt32(1))
            if entry.type == 3 { append(UInt16(entry.value)); append(UInt16(0)) } else { append(entry.value) }
        }
        append(UInt32(0))
        data.append(Data(repeating: 0, count: 64))
        return data
    }

    @Test func hugeHeaderIsRefusedBeforeAllocating() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // A 100000×100000 8-bit header (40 GB as Float) in a 200-byte file.
        let path = folder.file("huge.tif")
        let short: UInt16 = 3, long: UInt16 = 4
        try minimalTIFF([(256, long, 100_000), (257, long, 100_000), (258, short, 8), (259, short, 1), (262, short, 1),
                         (273, long, 150), (277, short, 1), (278, long, 100_000), (279, long, 64)]).write(to: URL(fileURLWithPath: path))
        let error = imagingError { _ = try StackLoader().open([path]) }
        #expect(error?.kind == .tooLarge, "\(String(describing: error))")
        #expect(error?.message.contains("100000×100000") == true)
        #expect(imagingError { _ = try ImageFile.read(path) }?.kind == .tooLarge)
        // A small image over a tiny budget, and a PNG header, are refused the same way.
        try TIFFWriter.write([patternImage(width: 64, height: 64, channels: 3, format: .uint8)], format: .uint8, to: folder.file("s.tif"))
        #expect(imagingError { _ = try ImageFile.read(folder.file("s.tif"), memoryBudgetBytes: 10_000) }?.kind == .tooLarge)
        try writePNG(folder.file("s.png"), image: patternImage(width: 64, height: 64, channels: 1, format: .uint16), bitDepth: 16)
        #expect(imagingError { _ = try ImageFile.read(folder.file("s.png"), memoryBudgetBytes: 10_000) }?.kind == .tooLarge)
    }

    @Test func absurdTileSizeIsRefused() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // A 16×16 float image claiming one 32768×32768 tile (4 GiB).
        let path = folder.file("tile.tif")
        let short: UInt16 = 3, long: UInt16 = 4
        try minimalTIFF([(256, long, 16), (257, long, 16), (258, short, 32), (259, short, 1), (262, short, 1), (277, short, 1),
                         (322, long, 32768), (323, long, 32768), (324, long, 150), (325, long, 64), (339, short, 3)])
            .write(to: URL(fileURLWithPath: path))
        let error = imagingError { _ = try ImageFile.read(path) }
        #expect(error?.kind == .tooLarge, "\(String(describing: error))")
        #expect(error?.message.contains("tile") == true)
    }

    @Test func mismatchedSlicesNameBothFilesAndTheProperty() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let a = patternImage(width: 20, height: 10, channels: 1, format: .uint8)
        try TIFFWriter.write([a], format: .uint8, to: folder.file("s1.tif"))
        try TIFFWriter.write([patternImage(width: 21, height: 10, channels: 1, format: .uint8)], format: .uint8, to: folder.file("s2.tif"))
        try TIFFWriter.write([a], format: .uint16, to: folder.file("s3.tif"))
        try TIFFWriter.write([patternImage(width: 20, height: 10, channels: 3, format: .uint8)], format: .uint8, to: folder.file("s4.tif"))
        for (other, property) in [("s2.tif", "width 21 differs from width 20"), ("s3.tif", "sample format uint16 differs from sample format uint8"),
                                  ("s4.tif", "channel count 3 differs from channel count 1")] {
            let error = imagingError { _ = try StackLoader().open([folder.file("s1.tif"), folder.file(other)]) }
            #expect(error?.kind == .mismatchedSlices)
            #expect(error?.path == folder.file(other))
            #expect(error?.message.contains(property) == true, "\(String(describing: error))")
            #expect(error?.message.contains(folder.file("s1.tif")) == true)
        }
        // Pages of one file: the error names both pages.
        try writeRawTIFF(folder.file("m.tif"), pages: [RawPage(width: 8, height: 8, samples: [Double](repeating: 1, count: 64)),
                                                       RawPage(width: 8, height: 9, samples: [Double](repeating: 1, count: 72))])
        let pages = imagingError { _ = try StackLoader().open([folder.file("m.tif")]) }
        #expect(pages?.kind == .mismatchedSlices)
        #expect(pages?.page == 1)
        #expect(pages?.message.contains("page 0") == true)
        #expect(pages?.message.contains("height 9 differs from height 8") == true)
    }

    @Test func sliceChangedAfterOpeningIsReported() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 12, height: 8, channels: 1, format: .uint16)
        try TIFFWriter.write([image], format: .uint16, to: folder.file("a.tif"))
        try writePNG(folder.file("b.png"), image: image, bitDepth: 16)
        try TIFFWriter.write([image, image], format: .uint16, to: folder.file("m.tif"))
        let list = try #require(try StackLoader().open([folder.file("a.tif"), folder.file("b.png")]).first)
        let pages = try #require(try StackLoader().open([folder.file("m.tif")]).first)
        // Replaced by files of another size before their slices are read.
        let other = patternImage(width: 12, height: 9, channels: 1, format: .uint16)
        try writePNG(folder.file("b.png"), image: other, bitDepth: 16)
        try TIFFWriter.write([other, other], format: .uint16, to: folder.file("m.tif"))
        for (stack, path) in [(list, folder.file("b.png")), (pages, folder.file("m.tif"))] {
            let error = imagingError { _ = try stack.slice(at: 1) }
            #expect(error?.kind == .mismatchedSlices)
            #expect(error?.path == path)
            #expect(error?.message.contains("height is now 9, not 8") == true, "\(String(describing: error))")
        }
    }

    @Test func emptyAndMissingInputs() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        #expect(imagingError { _ = try StackLoader().open([folder.path]) }?.kind == .emptyStack)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: folder.file("notes.txt")))
        try TIFFWriter.write([patternImage(width: 4, height: 4, channels: 1, format: .uint8)], format: .uint8, to: folder.file(".hidden.tif"))
        let empty = imagingError { _ = try StackLoader().open([folder.path]) }
        #expect(empty?.kind == .emptyStack)
        #expect(empty?.path == folder.path)
        #expect(imagingError { _ = try StackLoader().open([]) }?.kind == .emptyStack)
        #expect(imagingError { _ = try StackLoader().open([folder.file("missing.tif")]) }?.kind == .notFound)
        let missing = imagingError { _ = try ImageFile.read(folder.file("missing.png")) }
        #expect(missing?.kind == .notFound)
        #expect(missing?.message.contains("no such file") == true, "\(String(describing: missing))")
        #expect(imagingError { _ = try ImageFile.read(folder.path) }?.message.contains("is a folder") == true)
        #expect(imagingError { _ = try StackLoader().open([folder.file(".hidden.tif"), folder.file("missing.tif")]) }?.kind == .notFound)
    }

    @Test func errorDescriptionNamesFileAndPage() {
        let error = ImagingError(.truncated, path: "/data/stack.tif", page: 3, message: "the file ends early; copy it again")
        #expect(error.description == "/data/stack.tif (page 3): the file ends early; copy it again")
        #expect(ImagingError(.notFound, path: "x.png", message: "m").description == "x.png: m")
    }
}
