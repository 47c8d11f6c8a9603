import Foundation
import Testing
@testable import Daemon

/// Real files, real inotify, real SQLite; the daemon runs in-process with the test processor.
@Suite(.serialized) struct DaemonIntegrationTests {
    @Test func aTIFFWrittenSlowlyInChunksIsProcessedOnceOnlyWhenComplete() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration { $0.detection.stableSeconds = 1.0 }
        let path = (f.drop as NSString).appendingPathComponent("slow.tif")
        let chunks = (0..<6).map { i in i == 0 ? fakeTIFF("head", size: 4096) : Data(repeating: UInt8(i), count: 4096) }
        try await f.serving(config, processor: processor) {
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try #require(FileHandle(forWritingAtPath: path))
            for chunk in chunks {
                try handle.write(contentsOf: chunk)
                try handle.synchronize()
                try await Task.sleep(for: .milliseconds(600))
                #expect(try f.journal().allJobs().isEmpty, "nothing may start while the file is being written")
            }
            try handle.close()
            _ = try await f.jobsWhenSettled(count: 1)
            try await Task.sleep(for: .milliseconds(1500))
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.done])
        #expect(processor.calls == ["slow"])
        let fused = FileManager.default.contents(atPath: (f.output as NSString).appendingPathComponent("slow_fused.tif"))
        #expect(fused == chunks.reduce(Data(), +), "the whole file, not a prefix")
        #expect(f.files(in: f.output) == ["slow-ro-crate-metadata.json", "slow_depth.tif", "slow_fused.tif"])
    }

    @Test func sliceFolderByMarker() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            let folder = (f.drop as NSString).appendingPathComponent("run7")
            for z in [3, 1, 2] { drop(fakeTIFF("z\(z)"), at: "\(folder)/slice\(z).tif") }
            try await Task.sleep(for: .milliseconds(800))
            #expect(try f.journal().allJobs().isEmpty, "no marker yet")
            drop(Data(), at: "\(folder)/COMPLETE")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        let fused = FileManager.default.contents(atPath: (f.output as NSString).appendingPathComponent("run7_fused.tif"))
        #expect(fused == fakeTIFF("z1") + fakeTIFF("z2") + fakeTIFF("z3"), "slices in natural order")
    }

    @Test func sliceFolderByCount() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration { $0.detection.sliceCount = 4; $0.detection.marker = nil }
        try await f.serving(config, processor: processor) {
            let folder = (f.drop as NSString).appendingPathComponent("counted")
            for z in 1...3 { drop(fakeTIFF("z\(z)"), at: "\(folder)/s\(z).tif") }
            try await Task.sleep(for: .milliseconds(800))
            #expect(try f.journal().allJobs().isEmpty, "3 of 4 slices")
            drop(fakeTIFF("z4"), at: "\(folder)/s4.tif")
            let jobs = try await f.jobsWhenSettled(count: 1)
            #expect(jobs.first?.inputs.count == 4)
        }
        #expect(processor.calls == ["counted"])
    }

    @Test func sliceFolderByQuietPeriod() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let quiet = 3.0
        let config = f.configuration { $0.detection.quietSeconds = quiet; $0.detection.marker = nil }
        // The slices arrive 0.6 s apart, well inside the quiet period. On a loaded machine (the whole
        // suite on 2 cores) this task's sleep can overrun by seconds — then the folder really was
        // quiet that long and a job is right; such a step is not checked, and says so.
        let starved = LockedFlag()
        try await f.serving(config, processor: processor) {
            let folder = (f.drop as NSString).appendingPathComponent("quiet")
            for z in 1...3 {
                drop(fakeTIFF("z\(z)"), at: "\(folder)/s\(z).tif")
                let dropped = Date()
                try await Task.sleep(for: .milliseconds(600))
                let jobs = try f.journal().allJobs()
                if Date().timeIntervalSince(dropped) < quiet - 0.5 {
                    #expect(jobs.isEmpty, "slices still arriving")
                } else {
                    starved.set()
                    print("sliceFolderByQuietPeriod: the test slept \(Date().timeIntervalSince(dropped)) s for 0.6 s; step \(z) not checked")
                }
            }
            _ = try await f.jobsWhenSettled(count: 1)
        }
        if !starved.value {
            #expect(try f.journal().allJobs().first?.inputs.count == 3)
        }
    }

    @Test func looseFilesByPattern() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration {
            $0.detection.pattern = #"(?<stack>.+)_z(?<z>\d+)\.tif"#
            $0.detection.sliceCount = 3
        }
        try await f.serving(config, processor: processor) {
            for z in [10, 2, 1] { drop(fakeTIFF("a\(z)"), at: "\(f.drop)/cellA_z\(z).tif") }
            drop(fakeTIFF("b1"), at: "\(f.drop)/cellB_z1.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(processor.calls == ["cellA"], "cellB has 1 of 3 slices")
        let fused = FileManager.default.contents(atPath: "\(f.output)/cellA_fused.tif")
        #expect(fused == fakeTIFF("a1") + fakeTIFF("a2") + fakeTIFF("a10"))
    }

    @Test func aCorruptTIFFIsQuarantinedWithItsReasonAndTheNextGoodStackStillProcesses() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(), processor: processor) {
            drop(Data("this is not a TIFF".utf8), at: "\(f.drop)/broken.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            drop(fakeTIFF("good"), at: "\(f.drop)/good.tif")
            _ = try await f.jobsWhenSettled(count: 2)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.quarantined, .done])
        #expect(f.files(in: f.quarantine) == ["broken.error.txt", "broken.tif"])
        let reason = try String(contentsOfFile: "\(f.quarantine)/broken.error.txt", encoding: .utf8)
        #expect(reason.contains("not a TIFF file"))
        #expect(reason.contains("What to do"))
        #expect(FileManager.default.contents(atPath: "\(f.quarantine)/broken.tif") == Data("this is not a TIFF".utf8), "inputs unchanged")
        #expect(!FileManager.default.fileExists(atPath: "\(f.drop)/broken.tif"))
        #expect(FileManager.default.fileExists(atPath: "\(f.output)/good_fused.tif"))
    }

    @Test func transientFailuresAreRetriedWithBackoff() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(transientFailures: 2)
        try await f.serving(f.configuration(), processor: processor) {
            drop(fakeTIFF("x"), at: "\(f.drop)/flaky.tif")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.state == .done)
        #expect(job.attempts == 3)
        #expect(processor.calls == ["flaky", "flaky", "flaky"])
    }

    @Test func identicalDropsAreNotFusedTwiceAndOutputsNeverCollide() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        try await f.serving(f.configuration(archive: true), processor: processor) {
            drop(fakeTIFF("same"), at: "\(f.drop)/first.tif")
            _ = try await f.jobsWhenSettled(count: 1)
            drop(fakeTIFF("same"), at: "\(f.drop)/again.tif")       // same content, other name
            _ = try await f.jobsWhenSettled(count: 2)
            drop(fakeTIFF("other"), at: "\(f.drop)/first.tif")      // same name, other content
            _ = try await f.jobsWhenSettled(count: 3)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.map(\.state) == [.done, .done, .done])
        #expect(processor.calls == ["first", "first-2"], "the duplicate is recognised; the new content gets its own names")
        #expect(jobs[1].error?.contains("same inputs") == true)
        #expect(f.files(in: f.archive) == ["again.tif", "first-2.tif", "first.tif"], "inputs archived after success")
        #expect(f.files(in: f.drop).isEmpty)
        #expect(FileManager.default.contents(atPath: "\(f.output)/first_fused.tif") == fakeTIFF("same"))
        #expect(FileManager.default.contents(atPath: "\(f.output)/first-2_fused.tif") == fakeTIFF("other"))
    }

    @Test func twoHundredStacksDroppedAtOnceAreAllProcessedOnce() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration(workers: 2) { $0.outputs.depth = nil }
        let count = 200
        try await f.serving(config, processor: processor) {
            for i in 0..<count {
                if i % 2 == 0 {
                    drop(fakeTIFF("file\(i)"), at: "\(f.drop)/s\(i).tif")
                } else {
                    drop(fakeTIFF("a\(i)"), at: "\(f.drop)/s\(i)/1.tif")
                    drop(fakeTIFF("b\(i)"), at: "\(f.drop)/s\(i)/2.tif")
                    drop(Data(), at: "\(f.drop)/s\(i)/COMPLETE")
                }
            }
            _ = try await f.jobsWhenSettled(count: count, seconds: 50)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.count == count)
        #expect(jobs.allSatisfy { $0.state == .done && $0.attempts == 1 })
        #expect(processor.calls.count == count)
        #expect(Set(processor.calls).count == count, "none twice")
        let outputs = f.files(in: f.output)
        #expect(outputs.count == 2 * count)
        for job in jobs {
            let fused = try #require(job.outputs?.first)
            #expect(fused.path == "\(f.output)/\(job.stack)_fused.tif")
            let bytes = try #require(FileManager.default.contents(atPath: fused.path))
            #expect(SHA256Hex.of(bytes) == fused.sha256, "journal and outputs agree")
            #expect(job.sidecar == "\(f.output)/\(job.stack)-ro-crate-metadata.json")
        }
    }

    @Test func stacksDroppedWhileStoppedAreFoundByTheStartUpScan() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        let config = f.configuration()
        try await f.serving(config, processor: processor) {
            drop(fakeTIFF("one"), at: "\(f.drop)/one.tif")
            _ = try await f.jobsWhenSettled(count: 1)
        }
        // While stopped: new stacks arrive, one of them in a folder.
        drop(fakeTIFF("two"), at: "\(f.drop)/two.tif")
        drop(fakeTIFF("three"), at: "\(f.drop)/three/a.tif")
        drop(Data(), at: "\(f.drop)/three/COMPLETE")
        try await f.serving(config, processor: processor) {
            _ = try await f.jobsWhenSettled(count: 3)
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(processor.calls.sorted() == ["one", "three", "two"], "one is not fused again after the restart")
    }

    @Test func aQueueOverflowTriggersAFullRescan() throws {
        let f = DaemonFixture()
        let config = f.configuration()
        let journal = try f.journal()
        let intake = Intake(configurations: config.dropFolders, journal: journal, logger: f.logger, now: { Date().timeIntervalSince1970 })
        intake.scanAll(assumeClosed: true)
        // Files arrive, but their events were lost.
        drop(fakeTIFF("lost"), at: "\(f.drop)/lost.tif")
        Thread.sleep(forTimeInterval: 0.4)
        intake.tick()
        Thread.sleep(forTimeInterval: 0.1)
        #expect(intake.tick().isEmpty, "without events or a scan, the file is unknown")
        #expect(intake.handle([.overflow]))
        // Found by the rescan, so stable only after stable_seconds of watching (not by its old mtime).
        Thread.sleep(forTimeInterval: 0.1)
        #expect(intake.tick().isEmpty)
        Thread.sleep(forTimeInterval: 0.35)
        #expect(intake.tick().map(\.stack) == ["lost"])
    }

    /// A long start-up scan is progress: the intake reports a heartbeat every 1,000 entries, so the
    /// systemd watchdog keeps being fed while millions of files are listed.
    @Test func aLongScanKeepsReportingHeartbeats() throws {
        let f = DaemonFixture()
        let config = f.configuration()
        for i in 0..<2_500 { drop(Data(), at: "\(f.drop)/junk-\(i).txt") }
        let intake = Intake(configurations: config.dropFolders, journal: try f.journal(), logger: f.logger, now: { Date().timeIntervalSince1970 })
        let beats = Counter()
        intake.heartbeat = { beats.increment() }
        intake.scanAll(assumeClosed: true)
        #expect(beats.value == 2_500 / Intake.heartbeatEvery)
    }

    final class Counter: @unchecked Sendable {
        private(set) var value = 0
        func increment() { value += 1 }
    }

    @Test func gracefulShutdownLetsTheRunningJobFinish() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(delay: 1.5)
        try await f.serving(f.configuration(shutdownTimeout: 10), processor: processor) {
            drop(fakeTIFF("long"), at: "\(f.drop)/long.tif")
            #expect(await eventually(seconds: 10) { processor.calls.count == 1 })
        }
        #expect(try f.journal().allJobs().map(\.state) == [.done], "drained before exit")
    }

    @Test func aJobStillRunningAtTheShutdownTimeoutIsRequeued() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor(delay: 3)
        let started = Date()
        try await f.serving(f.configuration(shutdownTimeout: 0.3), processor: processor) {
            drop(fakeTIFF("long"), at: "\(f.drop)/long.tif")
            #expect(await eventually(seconds: 10) { processor.calls.count == 1 })
        }
        #expect(Date().timeIntervalSince(started) < 3, "did not wait for the job")
        let job = try #require(try f.journal().allJobs().first)
        #expect(job.state == .queued)
        #expect(job.attempts == 1)
        // The abandoned attempt finishes in the background without recording anything.
        try await Task.sleep(for: .seconds(3))
        #expect(try f.journal().allJobs().first?.state == .queued)
        #expect(!FileManager.default.fileExists(atPath: "\(f.output)/long-ro-crate-metadata.json"))
    }

    @Test func onceProcessesWhatIsCompleteAndReturns() async throws {
        let f = DaemonFixture()
        let processor = TestProcessor()
        drop(fakeTIFF("a"), at: "\(f.drop)/a.tif")
        drop(fakeTIFF("b"), at: "\(f.drop)/b/1.tif")   // no marker: incomplete
        try await Task.sleep(for: .milliseconds(400))
        try await f.service(f.configuration(), processor: processor, once: true).run()
        #expect(processor.calls == ["a"])
        #expect(try f.journal().allJobs().map(\.state) == [.done])
    }
}
