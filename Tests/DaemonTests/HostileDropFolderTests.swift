import Foundation
import Testing
@testable import Daemon
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Hostile drop folders: nothing in a drop folder may make the daemon read outside it, hang, or
/// exhaust memory; every file it will not read is refused with a logged reason.
@Suite(.serialized) struct HostileDropFolderTests {
    /// The `ignored` warnings logged so far, as (path, reason) pairs.
    static func refusals(_ f: DaemonFixture) -> [String] {
        f.logs.lines.filter { $0.hasPrefix("warning msg=ignored") }
    }

    static func refusal(_ f: DaemonFixture, path: String) -> String? {
        refusals(f).first { $0.contains("path=\(KeyValueLogHandler.quote(path))") }
    }

    /// Creates a file whose name is raw bytes (possibly not UTF-8) in `dir`.
    static func createRaw(_ dir: String, _ name: [UInt8], _ data: Data) {
        var path = Array(dir.utf8) + [0x2F] + name
        path.append(0)
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } }
        #expect(fd >= 0)
        data.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    @Test func onlyFilesThatCanBelongToAStackAreTracked() {
        var rules = DetectionRules()
        rules.pattern = #"(?<stack>.+)_z(?<z>\d+)\.raw"#
        let detector = StackDetector(rules: rules)
        for path in ["a.tif", "A.TIFF", "run/slice_1.png", "run/COMPLETE", "cell_z3.raw"] {
            #expect(detector.isRelevant(path), "\(path)")
        }
        for path in ["notes.txt", "COMPLETE", "run/notes.txt", "a/b/c.tif", ".a.tif", "run/.s.tif", ".hidden/s.tif", "cell_zx.raw"] {
            #expect(!detector.isRelevant(path), "\(path)")
        }
    }

    @Test func linksFIFOsAndDevicesAreRefusedAndNothingOutsideIsRead() async throws {
        let f = DaemonFixture()
        let outside = f.root.sub("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        drop(fakeTIFF("secret one"), at: "\(outside)/secret1.tif")
        drop(fakeTIFF("secret two"), at: "\(outside)/secret2.tif")
        drop(fakeTIFF("secret three"), at: "\(outside)/folder/1.tif")
        drop(Data(), at: "\(outside)/folder/COMPLETE")
        let processor = TestProcessor()
        let config = f.configuration()
        // Some before the daemon starts (found by the start-up scan) …
        #expect(symlink("\(outside)/secret1.tif", "\(f.drop)/symlink.tif") == 0)
        #expect(link("\(outside)/secret2.tif", "\(f.drop)/hardlink.tif") == 0)
        #expect(mkfifo("\(f.drop)/fifo.tif", 0o644) == 0)
        let device = mknod("\(f.drop)/device.tif", S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0   // /dev/null's numbers; needs root
        // The refusals the log must show. The start-up scan may run after the late link is made, so the
        // early link counts 2 or 3 names.
        let expected: [(String, String)] = [
            ("symlink.tif", "a symbolic link"), ("hardlink.tif", "a hard link ("), ("fifo.tif", "a FIFO"),
            ("linked-folder", "a symbolic link"), ("mixed/2.tif", "its stack folder will be quarantined"), ("late-fifo.tif", "a FIFO"),
            ("late-hardlink.tif", "a hard link (3 names)"),
        ] + (device ? [("device.tif", "a character device")] : [])
        try await f.serving(config, processor: processor) {
            // … and some while it runs (seen through inotify events).
            #expect(symlink("\(outside)/folder", "\(f.drop)/linked-folder") == 0)
            try FileManager.default.createDirectory(atPath: "\(f.drop)/mixed", withIntermediateDirectories: true)
            #expect(symlink("\(outside)/secret1.tif", "\(f.drop)/mixed/2.tif") == 0)
            #expect(mkfifo("\(f.drop)/late-fifo.tif", 0o644) == 0)
            #expect(link("\(outside)/secret2.tif", "\(f.drop)/late-hardlink.tif") == 0)
            drop(fakeTIFF("m1"), at: "\(f.drop)/mixed/1.tif")
            drop(Data(), at: "\(f.drop)/mixed/COMPLETE")
            drop(fakeTIFF("good"), at: "\(f.drop)/good.tif")
            _ = try await f.jobsWhenSettled(count: 2)
            // Every refusal is logged (late ones may trail the jobs on a loaded machine), then a little more time
            // in which nothing else may happen.
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, !expected.allSatisfy({ Self.refusal(f, path: "\(f.drop)/\($0.0)") != nil }) {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(800))
        }
        // The stack folder with a symbolic link among its slices is not fused from the other slices:
        // it is quarantined as a whole, with the reason.
        #expect(processor.calls.sorted() == ["good"])
        #expect(!FileManager.default.fileExists(atPath: "\(f.output)/mixed_fused.tif"))
        let jobs = try f.journal().allJobs()
        let mixedJob = try #require(jobs.first { $0.stack == "mixed" })
        #expect(mixedJob.state == .quarantined)
        #expect(mixedJob.error?.contains("mixed/2.tif is a symbolic link, not a regular file") == true, "\(mixedJob.error ?? "")")
        #expect(FileOperations.inspect("\(f.quarantine)/mixed/2.tif") == .other("a symbolic link"))
        let reasonFile = try String(contentsOfFile: "\(f.quarantine)/mixed.error.txt", encoding: .utf8)
        #expect(reasonFile.contains("symbolic link"))
        for output in f.files(in: f.output) {
            let bytes = try #require(FileManager.default.contents(atPath: "\(f.output)/\(output)"))
            #expect(bytes.range(of: Data("secret".utf8)) == nil, "\(output) holds bytes from outside the drop folder")
        }
        for (name, reason) in expected {
            let line = Self.refusal(f, path: "\(f.drop)/\(name)")
            #expect(line?.contains(reason) == true, "\(name): \(line ?? "not logged")\n\(Self.refusals(f).joined(separator: "\n"))")
        }
        // The files outside are untouched, and so are the loose links (only the stack folder was quarantined).
        #expect(FileManager.default.contents(atPath: "\(outside)/secret1.tif") == fakeTIFF("secret one"))
        #expect(FileManager.default.contents(atPath: "\(outside)/secret2.tif") == fakeTIFF("secret two"))
        #expect(f.files(in: f.quarantine).sorted() == ["mixed", "mixed.error.txt"])
        #expect(FileOperations.inspect("\(f.drop)/symlink.tif") == .other("a symbolic link"))
    }

    @Test func aRefusedFileRemovedAndPutBackIsRefusedAndLoggedAgain() async throws {
        let f = DaemonFixture()
        try await f.serving(f.configuration(), processor: TestProcessor()) {
            for round in 1...2 {
                #expect(mkfifo("\(f.drop)/again.tif", 0o644) == 0)
                #expect(await eventually(seconds: 10) { Self.refusals(f).filter { $0.contains("again.tif") }.count == round })
                #expect(unlink("\(f.drop)/again.tif") == 0)
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        #expect(Self.refusals(f).filter { $0.contains("again.tif") && $0.contains("a FIFO") }.count == 2)
    }

    @Test func oddNamesStayInsideTheOutputFolderOrAreRefused() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration()
        Self.createRaw(f.drop, Array("bad\u{FF}".utf8.prefix(3)) + [0xFF, 0x2E, 0x74, 0x69, 0x66], fakeTIFF("latin1"))
        drop(fakeTIFF("nl"), at: "\(f.drop)/line\nbreak.tif")
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("dots"), at: "\(f.drop)/a..b.tif")
            drop(fakeTIFF("hidden"), at: "\(f.drop)/..evil.tif")
            drop(fakeTIFF("dotdir"), at: "\(f.drop)/x..y/1.tif")
            drop(Data(), at: "\(f.drop)/x..y/COMPLETE")
            Self.createRaw(f.drop, [0x6C, 0x61, 0x74, 0x65, 0xC3, 0x28, 0x2E, 0x74, 0x69, 0x66], fakeTIFF("late"))   // "late\xc3(.tif"
            drop(fakeTIFF("tab"), at: "\(f.drop)/tab\there.tif")
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(800))
        }
        #expect(processor.calls.sorted() == ["a..b", "x..y"])
        #expect(f.files(in: f.output) == ["a..b-ro-crate-metadata.json", "a..b_depth.tif", "a..b_fused.tif",
                                          "x..y-ro-crate-metadata.json", "x..y_depth.tif", "x..y_fused.tif"])
        #expect(f.files(in: f.root.path) == ["drop", "out", "quarantine", "state"], "nothing written beside the daemon's folders")
        #expect(Self.refusal(f, path: "\(f.drop)/bad\\xff.tif")?.contains("not valid UTF-8") == true, "\(Self.refusals(f))")
        #expect(Self.refusals(f).contains { $0.contains("late") && $0.contains("not valid UTF-8") }, "\(Self.refusals(f))")
        #expect(Self.refusal(f, path: "\(f.drop)/line\nbreak.tif")?.contains("control characters") == true, "\(Self.refusals(f))")
        #expect(Self.refusal(f, path: "\(f.drop)/tab\there.tif")?.contains("control characters") == true)
        #expect(!f.logs.lines.contains { $0.contains("..evil") }, "hidden files are skipped without a word")
        #expect(f.logs.lines.allSatisfy { !$0.contains("\n") }, "a name with a newline cannot forge a log line")
    }

    @Test func aDeeplyNestedTreeIsNeitherWatchedNorReadAndTheDaemonKeepsServing() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration()
        @Sendable func deepTree(_ top: String, depth: Int) -> String {
            var dir = "\(f.drop)/\(top)"
            for _ in 0..<depth { dir += "/d" }
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            drop(fakeTIFF("deep"), at: "\(dir)/deep.tif")
            drop(Data(), at: "\(dir)/COMPLETE")
            return dir
        }
        _ = deepTree("early", depth: 200)
        let watcher = try InotifyWatcher()
        #expect(try watcher.watchRecursively(f.drop).count == 2, "the drop folder and early/, not 200 levels")
        try await f.serving(config, processor: processor) {
            _ = deepTree("late", depth: 200)
            drop(fakeTIFF("good"), at: "\(f.drop)/good.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(processor.calls == ["good"])
        #expect(Self.refusal(f, path: "\(f.drop)/early/d")?.contains("a folder inside a stack folder") == true, "\(Self.refusals(f))")
        #expect(Self.refusal(f, path: "\(f.drop)/late/d")?.contains("a folder inside a stack folder") == true, "\(Self.refusals(f))")
    }

    @Test func twentyThousandEmptyFilesCostOneListingAndFewLogLines() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration()
        for i in 0..<20_000 {
            let name = i % 2 == 0 ? "empty\(i).tif" : "stray\(i)"
            _ = FileManager.default.createFile(atPath: "\(f.drop)/\(name)", contents: nil)
        }
        drop(fakeTIFF("first"), at: "\(f.drop)/first.tif")
        let started = Date()
        try await f.serving(config, processor: processor) {
            _ = try await f.jobsWhenSettled(count: 1, seconds: 60)
            let t = Date()
            drop(fakeTIFF("second"), at: "\(f.drop)/second.tif")
            _ = try await f.jobsWhenSettled(count: 2, seconds: 30)
            #expect(Date().timeIntervalSince(t) < 10, "a stack dropped beside 20,000 stray files is still noticed promptly")
        }
        #expect(processor.calls == ["first", "second"])
        #expect(try f.journal().allJobs().count == 2, "no job for an empty file")
        let refusals = Self.refusals(f)
        #expect(refusals.count == Intake.refusalLogLimit, "\(refusals.count) individual refusals")
        #expect(refusals.contains { $0.contains("empty0.tif") && $0.contains("an empty file") })
        #expect(f.logs.lines.contains { $0.contains("more files ignored") })
        #expect(Date().timeIntervalSince(started) < 90)
    }

    @Test func aTIFFClaimingTenBillionPixelsIsQuarantinedFromItsHeader() async throws {
        let f = DaemonFixture()
        // Classic TIFF: 100,000 × 100,000 16-bit grey, one 8-byte strip.
        var d = Data([0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00])
        let tags: [(UInt16, UInt16, UInt32)] = [(256, 4, 100_000), (257, 4, 100_000), (258, 3, 16), (259, 3, 1), (262, 3, 1),
                                                 (273, 4, 8 + 2 + 9 * 12 + 4), (277, 3, 1), (278, 4, 100_000), (279, 4, 8)]
        d.append(contentsOf: withUnsafeBytes(of: UInt16(tags.count).littleEndian, Array.init))
        for (tag, type, value) in tags {
            d.append(contentsOf: withUnsafeBytes(of: tag.littleEndian, Array.init))
            d.append(contentsOf: withUnsafeBytes(of: type.littleEndian, Array.init))
            d.append(contentsOf: withUnsafeBytes(of: UInt32(1).littleEndian, Array.init))
            d.append(contentsOf: type == 3 ? withUnsafeBytes(of: UInt16(value).littleEndian, Array.init) + [0, 0]
                                           : withUnsafeBytes(of: value.littleEndian, Array.init))
        }
        d.append(contentsOf: [0, 0, 0, 0])
        d.append(contentsOf: [UInt8](repeating: 7, count: 8))
        let processor = PipelineProcessor(settings: FusionSettings(), baseDirectory: nil)
        let started = Date()
        let header = d
        try await f.serving(f.configuration(), processor: processor) {
            drop(header, at: "\(f.drop)/huge.tif")
            _ = try await f.jobsWhenSettled(count: 1, seconds: 30)
        }
        #expect(Date().timeIntervalSince(started) < 20, "refused from the header, nothing decoded")
        #expect(try f.journal().allJobs().map(\.state) == [.quarantined])
        let reason = try String(contentsOfFile: "\(f.quarantine)/huge.error.txt", encoding: .utf8)
        #expect(reason.contains("huge.tif") && reason.contains("memory budget"), "\(reason)")
        #expect(f.files(in: f.output).isEmpty)
    }
}
