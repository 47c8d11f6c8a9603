import Foundation
import Testing
@testable import Imaging

/// What the daemon asks of a file found by a scan (is this TIFF cut short?) and of an output set
/// (written completely under a temporary name, renamed by the caller).
@Suite struct CompletenessAndStagingTests {
    @Test func aTIFFCutAnywhereIsIncompleteAndTheWholeFileIsComplete() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let pages = (0..<3).map { patternImage(width: 40, height: 30, channels: 1, format: .uint16, seed: UInt64($0)) }
        let path = folder.file("stack.tif")
        try TIFFWriter.write(pages, format: .uint16, to: path)
        #expect(TIFFCompleteness.incompleteReason(path) == nil)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        // Cut inside the header, inside page data and inside a directory.
        for length in Array(stride(from: 4, to: bytes.count, by: 97)) + Array(bytes.count - 40..<bytes.count) {
            let cut = folder.file("cut-\(length).tif")
            FileManager.default.createFile(atPath: cut, contents: bytes.prefix(length))
            #expect(TIFFCompleteness.incompleteReason(cut) != nil, "cut at \(length) of \(bytes.count) bytes")
        }
        // Not a TIFF at all: not for this check to judge.
        let png = folder.file("x.png")
        FileManager.default.createFile(atPath: png, contents: Data([0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0]))
        #expect(TIFFCompleteness.incompleteReason(png) == nil)
    }

    @Test func aStagedWriteLeavesTheTargetAloneUntilRenamed() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let path = folder.file("fused.tif")
        try TIFFWriter.write([patternImage(width: 8, height: 8, channels: 1, format: .uint8)], format: .uint8, to: path)
        let before = try #require(FileManager.default.contents(atPath: path))
        let image = patternImage(width: 16, height: 16, channels: 1, format: .uint8, seed: 9)
        let temporary = try TIFFWriter.writeStaged([image], format: .uint8, for: path)
        #expect(FileManager.default.contents(atPath: path) == before, "the target is untouched by a staged write")
        #expect((temporary as NSString).deletingLastPathComponent == folder.path)
        #expect((temporary as NSString).lastPathComponent.hasPrefix(".fused.tif.tmp-"))
        #expect(rename(temporary, path) == 0)
        #expect(try ImageFile.read(path).image.width == 16)
    }
}
