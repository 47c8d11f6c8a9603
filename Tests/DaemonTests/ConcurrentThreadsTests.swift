import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// The thread count is a value each job carries, not a process-wide setting: jobs with different
/// `threads` running at the same time give exactly what each gives alone (issue 20).
@Suite("Pipeline: concurrent jobs with different thread counts")
struct ConcurrentThreadsTests {
    /// FusionDiff settings with the shipped model (so the neural network's parallel kernels run).
    static func settings(threads: Int) -> FusionSettings {
        var settings = FusionSettings()
        settings.engine = .fusiondiff
        settings.model = (packageRoot as NSString).appendingPathComponent("models/default.safetensors")
        settings.steps = 1
        settings.threads = threads
        return settings
    }

    /// The fused image's and depth map's pixels of one run.
    static func fuse(_ input: String, threads: Int, into folder: TemporaryFolder, name: String) throws -> [[Float]] {
        let outputs = OutputPaths(fused: folder.sub("\(name).tif"), depth: folder.sub("\(name)-depth.tif"))
        _ = try FusionPipeline(settings: settings(threads: threads)).run(inputs: [input], outputs: outputs, clock: { 0 })
        return try [outputs.fused, outputs.depth!].map { try ImageFile.read($0).image.pixels }
    }

    @Test func concurrentJobsMatchJobsRunAlone() async throws {
        let dir = TemporaryFolder("concurrent-threads")
        let input = dir.sub("hyper.tif")
        try JointChannelPipelineTests.writeHyperstack(input)
        let aloneOne = try Self.fuse(input, threads: 1, into: dir, name: "alone1")
        let aloneThree = try Self.fuse(input, threads: 3, into: dir, name: "alone3")
        let together = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for (index, threads) in [1, 3, 1, 3].enumerated() {
                group.addTask { (threads, try Self.fuse(input, threads: threads, into: dir, name: "together\(index)")) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(together.count == 4)
        for (threads, planes) in together {
            #expect(planes == (threads == 1 ? aloneOne : aloneThree), "threads \(threads)")
        }
    }
}
