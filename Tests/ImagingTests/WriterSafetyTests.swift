import Foundation
import Testing
@testable import Imaging

#if canImport(Glibc)
import Glibc
#endif

/// The writer is atomic and reports failures; the libraries never print to stderr.
@Suite struct WriterSafetyTests {
    @Test func failedWritesLeaveNothingBehind() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let image = patternImage(width: 8, height: 8, channels: 1, format: .uint8)

        // Into a folder that does not exist.
        do {
            try TIFFWriter.write([image], format: .uint8, to: folder.file("missing/out.tif"))
            Issue.record("write into a missing folder succeeded")
        } catch {
            #expect(error.kind == .writeFailed)
            #expect(error.path == folder.file("missing/out.tif"))
            // The temporary is a hidden sibling: .<name>.tmp-<pid>-<random>.
            #expect(error.message.contains(folder.file("missing/.out.tif.tmp-\(getpid())-")), "\(error.message)")
        }
        // Over a folder: the rename fails after the data was written; the temporary is removed.
        try FileManager.default.createDirectory(atPath: folder.file("taken.tif"), withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: folder.file("taken.tif/inside"), withIntermediateDirectories: false)
        do {
            try TIFFWriter.write([image], format: .uint8, to: folder.file("taken.tif"))
            Issue.record("write over a folder succeeded")
        } catch {
            #expect(error.kind == .writeFailed)
            #expect(error.message.contains("rename"))
        }
        #expect(folder.contents() == ["taken.tif"])
        // Pages of different sizes, or an unwritable channel count: refused before creating anything.
        do {
            try TIFFWriter.write([image, patternImage(width: 9, height: 8, channels: 1, format: .uint8)], format: .uint8, to: folder.file("p.tif"))
            Issue.record("pages of two sizes were written")
        } catch {
            #expect(error.kind == .writeFailed && error.page == 1)
        }
        do {
            try TIFFWriter.write([patternImage(width: 4, height: 4, channels: 2, format: .uint8)], format: .uint8, to: folder.file("q.tif"))
            Issue.record("a 2-channel page was written")
        } catch {
            #expect(error.kind == .writeFailed)
        }
        #expect(folder.contents() == ["taken.tif"])
    }

    @Test func writeReplacesAnExistingFileWhole() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let first = patternImage(width: 30, height: 30, channels: 3, format: .uint16, seed: 1)
        let second = patternImage(width: 5, height: 4, channels: 1, format: .uint8, seed: 2)
        try TIFFWriter.write([first], format: .uint16, to: folder.file("out.tif"))
        try TIFFWriter.write([second], format: .uint8, to: folder.file("out.tif"))
        let read = try ImageFile.read(folder.file("out.tif"))
        #expect(read.format == .uint8 && read.image == second)
        #expect(folder.contents() == ["out.tif"])
    }

    /// Runs `body` with file descriptor 2 redirected to a file; returns what was written there.
    func capturingStandardError(_ body: () -> Void) throws -> String {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let path = folder.file("stderr.txt")
        let capture = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(capture >= 0)
        fflush(nil)
        let saved = dup(2)
        dup2(capture, 2)
        body()
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        close(capture)
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @Test func libraryMessagesNeverReachStandardError() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // Bad files of every kind, made before the capture starts.
        try TIFFWriter.write([patternImage(width: 64, height: 64, channels: 1, format: .uint16)], format: .uint16, to: folder.file("ok.tif"))
        let tiff = try Data(contentsOf: URL(fileURLWithPath: folder.file("ok.tif")))
        try tiff.prefix(tiff.count / 2).write(to: URL(fileURLWithPath: folder.file("cut.tif")))
        var garbage = Data([0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x05, 0x00])
        garbage.append(Data((0..<500).map { UInt8(truncatingIfNeeded: $0 &* 37) }))
        try garbage.write(to: URL(fileURLWithPath: folder.file("garbage.tif")))
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: sharedData + "/dev/lytro/01_A.jpg"))
        try jpeg.prefix(jpeg.count / 3).write(to: URL(fileURLWithPath: folder.file("cut.jpg")))
        var corruptJPEG = jpeg
        for i in stride(from: 2000, to: 6000, by: 7) { corruptJPEG[i] = 0xFF }
        try corruptJPEG.write(to: URL(fileURLWithPath: folder.file("corrupt.jpg")))
        try writePNG(folder.file("ok.png"), image: patternImage(width: 32, height: 32, channels: 3, format: .uint8), bitDepth: 8)
        var png = try Data(contentsOf: URL(fileURLWithPath: folder.file("ok.png")))
        png[png.count / 2] ^= 0xFF // breaks a CRC
        try png.write(to: URL(fileURLWithPath: folder.file("crc.png")))
        try png.prefix(png.count / 2).write(to: URL(fileURLWithPath: folder.file("cut.png")))

        var kinds: [String: ImagingError.Kind] = [:]
        let output = try capturingStandardError {
            for name in ["cut.tif", "garbage.tif", "cut.jpg", "corrupt.jpg", "crc.png", "cut.png"] {
                do {
                    let stacks = try StackLoader().open([folder.file(name)])
                    for stack in stacks { for i in 0..<stack.count { _ = try stack.slice(at: i) } }
                } catch let error as ImagingError {
                    kinds[name] = error.kind
                } catch {}
            }
        }
        // What the libraries print by default: libtiff "<module>: <file>: <message>" (so our folder's
        // path), libpng "libpng warning/error: ...", libjpeg its message alone on a line. Other
        // tests running in parallel may write to stderr meanwhile; their lines match none of these.
        let leaked = output.split(separator: "\n").filter { line in
            line.contains(folder.path) || line.hasPrefix("libpng ") || line.hasPrefix("Premature end of JPEG file")
                || line.hasPrefix("Corrupt JPEG data") || line.hasPrefix("Not a JPEG file")
        }
        #expect(leaked.isEmpty, "library output reached stderr: \(leaked.prefix(5))")
        #expect(kinds["cut.tif"] == .truncated && kinds["cut.jpg"] == .truncated && kinds["cut.png"] == .truncated)
        #expect(kinds["garbage.tif"] != nil && kinds["crc.png"] == .unreadable)
    }
}
