import Checksum
import Foundation
import Testing
@testable import Daemon
@testable import Pipeline

/// A model is read and hashed once per process and version of the file, not once per stack.
@Suite("Model store")
struct ModelStoreTests {
    static let shipped = (packageRoot as NSString).appendingPathComponent("models/default.safetensors")

    static func fusionDiff(_ model: String) -> FusionSettings {
        var settings = FusionSettings()
        settings.engine = .fusiondiff
        settings.model = model
        settings.steps = 1
        return settings
    }

    /// Two stacks through the daemon with one FusionDiff profile: the model is hashed once (the first
    /// job's identity), parsed once (the first job's engine), and answered from memory afterwards.
    @Test func theSecondStackNeitherRehashesNorReloadsTheModel() async throws {
        let f = DaemonFixture()
        let model = f.root.sub("model.safetensors")
        try FileManager.default.copyItem(atPath: Self.shipped, toPath: model)
        let store = ModelStore()
        let processor = PipelineProcessor(settings: Self.fusionDiff(model), baseDirectory: nil, modelStore: store)
        try await f.serving(f.configuration(), processor: processor) {
            try SyntheticArchive.writeStack("\(f.drop)/first.tif", slices: 2, size: 32, seed: 1)
            _ = try await f.jobsWhenSettled(count: 1, seconds: 120)
            let afterFirst = store.statistics
            try SyntheticArchive.writeStack("\(f.drop)/second.tif", slices: 2, size: 32, seed: 2)
            _ = try await f.jobsWhenSettled(count: 2, seconds: 120)
            #expect(afterFirst.hashes == 1 && afterFirst.loads == 1, "first stack: \(afterFirst)")
            #expect(store.statistics.hashes == 1 && store.statistics.loads == 1, "second stack: \(store.statistics)")
            #expect(store.statistics.hits > afterFirst.hits)
        }
        let jobs = try f.journal().allJobs()
        #expect(jobs.count == 2 && jobs.allSatisfy { $0.state == .done }, "\(jobs.map(\.state))")
    }

    /// A model rewritten in place (same path, same size: a retrained model) is hashed afresh, and its
    /// new hash is the one the next stack records.
    @Test func aModelRewrittenInPlaceIsHashedAgain() throws {
        let dir = TemporaryFolder("model-store")
        let model = dir.sub("m.safetensors")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Self.shipped))
        try bytes.write(to: URL(fileURLWithPath: model))
        let store = ModelStore()
        let processor = PipelineProcessor(settings: Self.fusionDiff(model), baseDirectory: nil, modelStore: store)
        let first = try processor.identity().modelSHA256
        #expect(try processor.identity().modelSHA256 == first)
        #expect(store.statistics == ModelStore.Counts(hashes: 1, loads: 0, hits: 1))
        bytes[bytes.count - 1] ^= 0xff                              // a weight changes, the size does not
        try bytes.write(to: URL(fileURLWithPath: model))
        let second = try processor.identity().modelSHA256
        #expect(second == SHA256.hex(bytes) && second != first)
        #expect(store.statistics.hashes == 2)
        // Loading the engine after the identity parses the file but does not hash it again.
        _ = try processor.settings.makeEngine(models: store)
        #expect(store.statistics.hashes == 2 && store.statistics.loads == 1)
    }

    @Test func aMissingModelIsAConfigurationErrorNamingThePath() {
        let store = ModelStore()
        let processor = PipelineProcessor(settings: Self.fusionDiff("/nonexistent/model.safetensors"), baseDirectory: nil, modelStore: store)
        #expect {
            try processor.identity()
        } throws: { error in
            guard let failure = error as? ProcessFailure else { return false }
            return failure.kind == .configuration && failure.message.contains("/nonexistent/model.safetensors")
        }
    }
}
