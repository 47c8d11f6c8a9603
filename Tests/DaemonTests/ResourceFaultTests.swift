import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Resource faults in the test suite (the long versions, with a memory limit and a state directory
/// filling up, are in scripts/resource-faults.sh): a faulty drop folder's job fails cleanly — retried,
/// or failed with its reason — no temporary file is left, and the other drop folder keeps being served.
@Suite(.serialized) struct ResourceFaultTests {
    /// The fixture's configuration plus a second, healthy drop folder.
    static func twoFolders(_ f: DaemonFixture, faultyOutput: String, maxAttempts: Int = 3) -> DaemonConfiguration {
        var config = f.configuration { $0.output = faultyOutput; $0.retry = RetryPolicy(maxAttempts: maxAttempts, backoffSeconds: 0.3, maxBackoffSeconds: 0.5) }
        var healthy = config.dropFolders[0]
        healthy.name = "healthy"
        healthy.path = f.root.sub("drop-healthy")
        healthy.output = f.root.sub("out-healthy")
        try? FileManager.default.createDirectory(atPath: healthy.path, withIntermediateDirectories: true)
        config.dropFolders.append(healthy)
        return config
    }

    static func stack(_ seed: Int, size: Int) throws -> Data {
        let t = TemporaryFolder("focusd-fault")
        var pages: [Image] = []
        for z in 0..<2 {
            var image = Image(width: size, height: size, channels: 1)
            var state = UInt64(seed * 1000 + z + 1)
            for y in 0..<size {
                for x in 0..<size {   // noise: the fused and depth images do not compress below the free space
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    image[x, y, 0] = Float((state >> 33) % 60000)
                }
            }
            pages.append(image)
        }
        try TIFFWriter.write(pages, format: .uint16, to: t.sub("s.tif"))
        return try #require(FileManager.default.contents(atPath: t.sub("s.tif")))
    }

    static func hiddenFiles(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix(".") }
    }

    /// Needs root (mount): the suite runs as root in CI and in the development container.
    @Test(.enabled(if: geteuid() == 0, "mounting a 1 MiB tmpfs needs root"))
    func aFullOutputDiskIsRetriedWithoutTemporariesAndTheOtherFolderKeepsServing() async throws {
        let f = DaemonFixture()
        let mountPoint = f.root.sub("small-disk")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(mount("tmpfs", mountPoint, "tmpfs", 0, "size=1m") == 0, "mount: \(String(cString: strerror(errno)))")
        defer { _ = umount2(mountPoint, Int32(MNT_DETACH)) }
        // Leave 64 KiB: a 256×256 stack's fused and depth images (≈ 0.4 MiB) do not fit.
        let filler = "\(mountPoint)/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: Data(count: 960 * 1024)))
        // Retried until there is space (however slow the machine), as a full disk is in service.
        let config = Self.twoFolders(f, faultyOutput: mountPoint, maxAttempts: 10_000)
        let processor = PipelineProcessor(settings: FusionSettings(), baseDirectory: nil)
        let big = try Self.stack(1, size: 256), small = try Self.stack(2, size: 32)
        try await f.serving(config, processor: processor) {
            drop(big, at: "\(f.drop)/big.tif")
            #expect(await eventually(seconds: 30) { f.logs.lines.contains { $0.contains("will retry") && $0.contains("No space left on device") } },
                    "\(f.logs.lines.suffix(10).joined(separator: "\n"))")
            drop(small, at: "\(f.root.sub("drop-healthy"))/small.tif")
            #expect(await eventually(seconds: 30) { (try? f.journal().allJobs().first { $0.stack == "small" }?.state) == .done },
                    "the healthy folder is served while the other one's disk is full")
            #expect(Self.hiddenFiles(mountPoint).isEmpty, "no temporary file is left on the full disk")
            #expect(unlink(filler) == 0)
            _ = try await f.jobsWhenSettled(count: 2, seconds: 30)
        }
        let jobs = try f.journal().allJobs()
        let job = try #require(jobs.first { $0.stack == "big" })
        #expect(job.state == .done && job.attempts >= 2, "retried after the disk had space again: \(job.state) \(job.attempts)")
        #expect(f.files(in: mountPoint) == ["big-ro-crate-metadata.json", "big_depth.tif", "big_fused.tif"])
        let sidecar = try SidecarSchemaTests.load("\(mountPoint)/big-ro-crate-metadata.json")
        try SidecarSchemaTests.checkAgainstFiles(sidecar, inputs: ["\(f.drop)/big.tif"])
    }

    @Test func anUnusableOutputFolderFailsTheJobWithItsReasonAndTheOtherFolderKeepsServing() async throws {
        let f = DaemonFixture()
        let config = Self.twoFolders(f, faultyOutput: f.root.sub("out"))
        let processor = TestProcessor()
        try await f.serving(config, processor: processor) {
            // The output folder is replaced by a regular file after start-up (a mistaken `mv`):
            // creating it fails with ENOTDIR.
            try FileManager.default.removeItem(atPath: f.output)
            #expect(FileManager.default.createFile(atPath: f.output, contents: Data("x".utf8)))
            drop(fakeTIFF("lost"), at: "\(f.drop)/lost.tif")
            drop(fakeTIFF("fine"), at: "\(f.root.sub("drop-healthy"))/fine.tif")
            _ = try await f.jobsWhenSettled(count: 2, seconds: 30)
        }
        let jobs = try f.journal().allJobs()
        let lost = try #require(jobs.first { $0.stack == "lost" })
        #expect(lost.state == .failed, "\(lost.state)")
        #expect(lost.error?.contains(f.output) == true && lost.error?.contains("Not a directory") == true, "\(lost.error ?? "")")
        #expect(jobs.first { $0.stack == "fine" }?.state == .done)
        #expect(FileManager.default.fileExists(atPath: "\(f.drop)/lost.tif"), "the input stays where it was")
    }

    @Test func anUnusableStateDirectoryStopsTheStartWithItsReason() async throws {
        let f = DaemonFixture()
        let file = f.root.sub("state-is-a-file")
        #expect(FileManager.default.createFile(atPath: file, contents: nil))
        var config = f.configuration()
        config.stateDirectory = "\(file)/state"
        do {
            try await f.service(config, processor: TestProcessor()).run()
            Issue.record("the daemon started without a usable state directory")
        } catch {
            #expect("\(error)".contains(file), "\(error)")
        }
    }
}
