import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// The memory check before decoding: the limit comes from the cgroup, the machine and the
/// configuration; a stack that cannot fit is refused before a pixel is decoded.
@Suite struct MemoryBudgetTests {
    @Test func theCgroupLimitIsFoundForVersionTwoAndOne() throws {
        let root = TemporaryFolder("focusd-cgroup")
        let v2 = root.sub("v2")
        try FileManager.default.createDirectory(atPath: "\(v2)/system.slice/focusd.service", withIntermediateDirectories: true)
        try "max\n".write(toFile: "\(v2)/system.slice/focusd.service/memory.max", atomically: true, encoding: .utf8)
        try "1073741824\n".write(toFile: "\(v2)/system.slice/memory.max", atomically: true, encoding: .utf8)
        try "0::/system.slice/focusd.service\n".write(toFile: root.sub("cgroup-v2"), atomically: true, encoding: .utf8)
        let found = try #require(MemoryBudget.cgroupLimit(procSelf: root.sub("cgroup-v2"), mount: v2))
        #expect(found.bytes == 1 << 30, "the parent slice's limit applies when the unit has none")

        let v1 = root.sub("v1")
        try FileManager.default.createDirectory(atPath: "\(v1)/memory/focusd", withIntermediateDirectories: true)
        try "536870912\n".write(toFile: "\(v1)/memory/focusd/memory.limit_in_bytes", atomically: true, encoding: .utf8)
        try "9223372036854771712\n".write(toFile: "\(v1)/memory/memory.limit_in_bytes", atomically: true, encoding: .utf8)
        try "4:memory:/focusd\n3:cpu,cpuacct:/focusd\n".write(toFile: root.sub("cgroup-v1"), atomically: true, encoding: .utf8)
        #expect(MemoryBudget.cgroupLimit(procSelf: root.sub("cgroup-v1"), mount: v1)?.bytes == 512 << 20)

        try "0::/\n".write(toFile: root.sub("cgroup-none"), atomically: true, encoding: .utf8)
        #expect(MemoryBudget.cgroupLimit(procSelf: root.sub("cgroup-none"), mount: root.sub("empty")) == nil)
        #expect(MemoryBudget.limit(configured: 300 << 20).bytes == 300 << 20)
    }

    @Test func estimatesGrowWithPixelsChannelsAndTheGenerator() {
        var reference = FusionSettings()
        reference.engine = .reference
        var model = FusionSettings()
        model.engine = .fusiondiff
        model.selection.modelScale = 2
        var full = model
        full.selection.modelScale = 1
        let small = reference.estimatedPeakBytes(width: 1024, height: 1024, channels: 1)
        #expect(reference.estimatedPeakBytes(width: 2048, height: 2048, channels: 1) > 3 * small - 400 << 20)
        #expect(reference.estimatedPeakBytes(width: 1024, height: 1024, channels: 3) > small)
        #expect(model.estimatedPeakBytes(width: 1024, height: 1024, channels: 1) > 2 * small - 200 << 20)
        #expect(full.estimatedPeakBytes(width: 1024, height: 1024, channels: 1) > model.estimatedPeakBytes(width: 1024, height: 1024, channels: 1))
        // The hostile file of issue 18: 3 deflated pages of 12000², under a 1 GiB limit.
        #expect(reference.estimatedPeakBytes(width: 12000, height: 12000, channels: 1) > 8 << 30)
    }

    @Test func aStackThatCannotFitIsRefusedBeforeDecodingAndOneThatFitsIsFused() throws {
        let folder = TemporaryFolder("focusd-memory")
        let big = folder.sub("big.tif"), small = folder.sub("small.tif")
        let bigPage = Image(width: 1024, height: 1024, channels: 1, pixels: [Float](repeating: 100, count: 1024 * 1024))
        try TIFFWriter.write([bigPage, bigPage], format: .uint16, to: big)
        let smallPage = Image(width: 64, height: 64, channels: 1, pixels: (0..<4096).map { Float($0 % 97) })
        try TIFFWriter.write([smallPage, smallPage], format: .uint16, to: small)
        var settings = FusionSettings()
        settings.engine = .reference
        var pipeline = FusionPipeline(settings: settings)
        pipeline.memoryLimitBytes = 150 << 20
        do {
            _ = try pipeline.run(inputs: [big], outputs: OutputPaths(fused: folder.sub("big_fused.tif")), clock: { 0 })
            Issue.record("a 1024² stack needing about 186 MiB was fused under a 150 MiB limit")
        } catch {
            #expect(error.errorClass == .badInput)
            #expect(error.message.contains(big) && error.message.contains("1024×1024") && error.message.contains("150 MiB")
                    && error.message.contains("memory_limit_mib"), "\(error.message)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.sub("big_fused.tif")))
        _ = try pipeline.run(inputs: [small], outputs: OutputPaths(fused: folder.sub("small_fused.tif")), clock: { 0 })
        #expect(FileManager.default.fileExists(atPath: folder.sub("small_fused.tif")))
    }
}
