import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// Slow and odd writers: a stack is fused only from complete files, exactly as the README documents
/// (a TIFF once closed and stable for `stable_seconds`; a slice folder at its marker with every slice
/// stable; inputs re-checked before and after the fusion).
@Suite(.serialized) struct WriterTests {
    /// A real 16-bit 3-page 96×96 stack as TIFF bytes.
    static func stackBytes(seed: Int) throws -> Data {
        let t = TemporaryFolder("focusd-writer")
        var pages: [Image] = []
        for z in 0..<3 {
            var image = Image(width: 96, height: 96, channels: 1)
            for y in 0..<96 { for x in 0..<96 { image[x, y, 0] = Float((x * 31 + y * 17 + z * 900 + seed * 7) % 60000) } }
            pages.append(image)
        }
        try TIFFWriter.write(pages, format: .uint16, to: t.sub("s.tif"))
        return try #require(FileManager.default.contents(atPath: t.sub("s.tif")))
    }

    @Test func aRealTIFFWrittenOverSixSecondsIsFusedOnceFromTheWholeFile() async throws {
        let f = DaemonFixture()
        let bytes = try Self.stackBytes(seed: 1)
        let processor = PipelineProcessor(settings: FusionSettings(), baseDirectory: nil)
        let config = f.configuration { $0.detection.stableSeconds = 1.0 }
        let path = "\(f.drop)/slow.tif"
        try await f.serving(config, processor: processor) {
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            let chunks = 12
            for i in 0..<chunks {
                try handle.write(contentsOf: bytes[(i * bytes.count / chunks)..<((i + 1) * bytes.count / chunks)])
                try await Task.sleep(for: .milliseconds(500))     // 12 × 0.5 s: a 6-second writer, pauses under stable_seconds
                #expect(try f.journal().allJobs().isEmpty, "nothing may start while the file is being written (chunk \(i))")
            }
            try handle.close()
            _ = try await f.jobsWhenSettled(count: 1, seconds: 30)
        }
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.state == .done && job.attempts == 1)
        #expect(job.inputSHA256 == [SHA256Hex.of(bytes)], "fused from the whole file")
        let sidecar = try SidecarSchemaTests.load("\(f.output)/slow-ro-crate-metadata.json")
        try SidecarSchemaTests.checkAgainstFiles(sidecar, inputs: [path])
        let fused = try #require(try StackLoader().open(["\(f.output)/slow_fused.tif"]).first)
        #expect(fused.geometry.width == 96 && fused.count == 1)
    }

    @Test func aFileRenamedInIsFusedOnceAndItsHiddenTemporaryNever() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let outside = f.root.sub("staging.tif")
        try await f.serving(f.configuration(), processor: processor) {
            // Written slowly under a hidden name in the drop folder, then renamed (rsync, most copy tools).
            let hidden = "\(f.drop)/.incoming.tif.part"
            #expect(FileManager.default.createFile(atPath: hidden, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: hidden))
            for i in 0..<4 {
                try handle.write(contentsOf: i == 0 ? fakeTIFF("renamed", size: 2048) : Data(repeating: UInt8(i), count: 2048))
                try await Task.sleep(for: .milliseconds(300))
            }
            try handle.close()
            try await Task.sleep(for: .milliseconds(600))
            #expect(try f.journal().allJobs().isEmpty, "the hidden temporary is never a stack")
            #expect(rename(hidden, "\(f.drop)/incoming.tif") == 0)
            // Written elsewhere on the same file system and moved in.
            drop(fakeTIFF("moved"), at: outside)
            #expect(rename(outside, "\(f.drop)/moved.tif") == 0)
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(800))
        }
        #expect(processor.calls.sorted() == ["incoming", "moved"])
        #expect(FileManager.default.contents(atPath: "\(f.output)/incoming_fused.tif")?.count == 4 * 2048)
    }

    @Test func slicesArrivingOutOfOrderAndSlowlyAreFusedInNaturalOrderOnlyWhenAllAreStable() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration { $0.detection.stableSeconds = 1.0 }
        let folder = "\(f.drop)/run"
        try await f.serving(config, processor: processor) {
            for z in [10, 2, 1] {
                drop(fakeTIFF("z\(z)"), at: "\(folder)/slice_\(z).tif")
                try await Task.sleep(for: .milliseconds(200))
            }
            // slice_3 is still being written (non-atomically) when the marker appears.
            let slow = "\(folder)/slice_3.tif"
            #expect(FileManager.default.createFile(atPath: slow, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: slow))
            try handle.write(contentsOf: fakeTIFF("z3", size: 1000))
            drop(Data(), at: "\(folder)/COMPLETE")
            for i in 1..<5 {
                try await Task.sleep(for: .milliseconds(500))
                try handle.write(contentsOf: Data(repeating: UInt8(i), count: 1000))
                #expect(try f.journal().allJobs().isEmpty, "a slice is still being written")
            }
            try handle.close()
            _ = try await f.jobsWhenSettled(count: 1)
            try await Task.sleep(for: .milliseconds(1200))
        }
        #expect(processor.calls == ["run"])
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.inputs.map { ($0.path as NSString).lastPathComponent } == ["slice_1.tif", "slice_2.tif", "slice_3.tif", "slice_10.tif"])
        #expect(job.inputs[2].size == 5000, "the slow slice whole")
    }

    @Test func aFileDeletedWhileQueuedFailsWithItsReasonAndTheNextStackStillRuns() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(delay: 1.5)
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("blocker"), at: "\(f.drop)/blocker.tif")
            #expect(await eventually(seconds: 10) { processor.calls == ["blocker"] })
            drop(fakeTIFF("victim"), at: "\(f.drop)/victim.tif")
            #expect(await eventually(seconds: 10) { (try? f.journal().allJobs().count) == 2 }, "queued behind the blocker")
            #expect(unlink("\(f.drop)/victim.tif") == 0)
            drop(fakeTIFF("after"), at: "\(f.drop)/after.tif")
            _ = try await f.jobsWhenSettled(count: 3)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.stack) == ["blocker", "victim", "after"])
        #expect(jobs.map(\.state) == [.done, .failed, .done])
        #expect(jobs[1].error?.contains("victim.tif changed or vanished") == true, "\(jobs[1].error ?? "")")
        #expect(processor.calls == ["blocker", "after"], "the vanished stack never reached the fusion")
        #expect(!FileManager.default.fileExists(atPath: "\(f.output)/victim_fused.tif"))
        #expect(f.logs.lines.contains { $0.hasPrefix("error msg=\"job failed\"") && $0.contains("victim") })
    }

    /// Reads its inputs, then waits (so a test can replace a file after it was read), then writes
    /// the concatenation of what it read, like `TestProcessor`.
    final class ReadThenWait: StackProcessor, @unchecked Sendable {
        let wait: Double
        let lock = NSLock()
        var reads: [String] = []
        init(wait: Double) { self.wait = wait }
        func identity() throws(ProcessFailure) -> ProcessorIdentity { ProcessorIdentity(settingsJSON: "{}", modelSHA256: nil) }
        func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                     clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
            let data = inputs.compactMap { FileManager.default.contents(atPath: $0) }.reduce(Data(), +)
            lock.lock(); reads.append(stackName); lock.unlock()
            Thread.sleep(forTimeInterval: wait)
            let path = "\(outputDirectory)/\(OutputPatterns.resolve(names.fused, stack: stackName))"
            var staged = OutputSet()
            do { try staged.stage(data, as: path) } catch { throw ProcessFailure(.transient, "\(error)") }
            var report = ProcessReport(inputs: [ProcessedInput(path: inputs[0], size: data.count, sha256: SHA256Hex.of(data))],
                                       sliceNames: ["p"], outputs: [JobOutput(role: "fused", path: path, size: data.count, sha256: SHA256Hex.of(data))],
                                       stageSeconds: [:], settingsJSON: "{}", model: nil, alignmentJSON: nil, width: 1, height: 1,
                                       channels: 1, sliceCount: 1, format: "uint16")
            report.staged = staged
            return report
        }
    }

    @Test func aFileReplacedWhileItIsFusedIsNotCommittedAndTheNewVersionTakesTheStacksNames() async throws {
        let f = DaemonFixture()
        let processor = ReadThenWait(wait: 1.0)
        let config = f.configuration { $0.outputs.depth = nil }
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("version 1"), at: "\(f.drop)/x.tif")
            #expect(await eventually(seconds: 10) { processor.lock.withLock { processor.reads.count } == 1 })
            // Replaced (atomically) while the first version is being fused.
            drop(fakeTIFF("version 2"), at: "\(f.root.path)/x.new")
            #expect(rename("\(f.root.path)/x.new", "\(f.drop)/x.tif") == 0)
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(500))
        }
        let jobs = try f.journal().allJobs()
        // The first version's outputs were never committed (the input changed before the commit);
        // the second is the stack's one output set, under the stack's own names.
        #expect(jobs.map(\.state) == [.failed, .done])
        #expect(jobs[0].error?.contains("changed") == true, "\(jobs[0].error ?? "")")
        #expect(jobs[1].inputSHA256 == [SHA256Hex.of(fakeTIFF("version 2"))])
        #expect(FileManager.default.contents(atPath: "\(f.output)/x_fused.tif") == fakeTIFF("version 2"))
        #expect(f.files(in: f.output) == ["x-ro-crate-metadata.json", "x_fused.tif"])
    }

    /// On its first call rewrites its first input in place before reading it (an instrument
    /// rewriting a file between the daemon's hashing and the fusion), then behaves like `ReadThenWait`.
    final class RewritesInputOnce: StackProcessor, @unchecked Sendable {
        let inner = ReadThenWait(wait: 0)
        let lock = NSLock()
        var rewritten = false
        func identity() throws(ProcessFailure) -> ProcessorIdentity { try inner.identity() }
        func process(inputs: [String], stackName: String, outputDirectory: String, names: OutputPatterns,
                     clock: @escaping @Sendable () -> Double) throws(ProcessFailure) -> ProcessReport {
            let first = lock.withLock { () -> Bool in defer { rewritten = true }; return !rewritten }
            if first { FileManager.default.createFile(atPath: inputs[0], contents: fakeTIFF("rewritten")) }
            return try inner.process(inputs: inputs, stackName: stackName, outputDirectory: outputDirectory, names: names, clock: clock)
        }
    }

    @Test func outputsMadeFromAnInputThatChangedDuringTheJobAreRemovedSoNoOutputLacksASidecar() async throws {
        let f = DaemonFixture()
        let processor = RewritesInputOnce()
        let config = f.configuration { $0.outputs.depth = nil }
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("original"), at: "\(f.drop)/y.tif")
            _ = try await f.jobsWhenSettled(count: 2)
            try await Task.sleep(for: .milliseconds(500))
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.first?.state == .failed)
        #expect(jobs.first?.error?.contains("changed") == true, "\(jobs.first?.error ?? "")")
        let files = f.files(in: f.output)
        for fused in files where fused.hasSuffix("_fused.tif") {
            let stack = String(fused.dropLast("_fused.tif".count))
            #expect(files.contains("\(stack)-ro-crate-metadata.json"), "\(fused) has no sidecar: \(files)")
        }
        #expect(FileManager.default.contents(atPath: "\(f.output)/\(files.first { $0.hasSuffix("_fused.tif") } ?? "none")") == fakeTIFF("rewritten"),
                "the rewritten version is fused once it is stable")
    }
}
