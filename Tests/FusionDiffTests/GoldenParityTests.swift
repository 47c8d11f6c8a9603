import Foundation
import NN
import Testing
@testable import FusionDiff

/// Parity with the independent PyTorch implementation in `../shared/golden/fusiondiff-tiny`.
@Suite("Golden parity (fusiondiff-tiny)")
struct GoldenParityTests {
    static func loadModel() throws -> (ModelFile, UNet) {
        let path = TestData.golden.appendingPathComponent("weights.safetensors").path
        let file = try ModelFile.parse(try Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        return (file, try file.makeNetwork(path: path))
    }

    @Test("model file: configuration from metadata, cosine T = 2000, 32,241 parameters")
    func modelFile() throws {
        let (file, network) = try Self.loadModel()
        #expect(file.configuration.imageChannels == 1 && file.configuration.width == 8 && file.configuration.mults == [1, 2])
        #expect(file.configuration.prediction == .eps)
        #expect(file.schedule.timesteps == 2000)
        #expect(file.storedParameterCount == 32_241)
        #expect(network.parameterCount == 32_241)
    }

    @Test("4-step sampler from x_T equals sample_K4.npy within 1e-4")
    func sampleK4() throws {
        let (file, network) = try Self.loadModel()
        let input = try TestData.readNPY(TestData.golden.appendingPathComponent("input.npy"))
        let xT = try TestData.readNPY(TestData.golden.appendingPathComponent("x_T.npy"))
        let expected = try TestData.readNPY(TestData.golden.appendingPathComponent("sample_K4.npy"))
        #expect(input.shape == [1, 3, 32, 32] && xT.shape == [1, 1, 32, 32])
        let plane = 32 * 32
        let sources = Array(input.values[0..<(2 * plane)])
        let sampler = DeterministicSampler(schedule: file.schedule, steps: 4, prediction: file.configuration.prediction)
        var timesteps: [Int] = []
        let result = try sampler.sample(sources: sources, batch: 1, channels: 1, height: 32, width: 32,
                                        initialNoise: xT.values, model: DeterministicSampler.model(network),
                                        observe: { step, _ in timesteps.append(step.timestep) })
        #expect(timesteps == [1999, 1499, 999, 499])
        let worst = zip(result, expected.values).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4, "largest difference \(worst)")
    }

    @Test("bare state_dict needs --config; a disagreeing --config is refused")
    func bareStateDict() throws {
        let (file, network) = try Self.loadModel()
        let bare = SafeTensorsFile.serialize(tensors: network.stateDict())
        #expect(throws: ModelFileError.self) { try ModelFile.parse(bare, path: "bare.safetensors") }
        let parsed = try ModelFile.parse(bare, path: "bare.safetensors", configurationJSON: file.configuration.jsonString())
        #expect(parsed.configuration == file.configuration)
        var other = file.configuration
        other.width = 16
        let data = ModelFile.serialize(configuration: file.configuration, stateDict: network.stateDict())
        #expect(throws: ModelFileError.self) { try ModelFile.parse(data, path: "m.safetensors", configurationJSON: other.jsonString()) }
        // A bare file under a wrong configuration fails when the network loads, naming a tensor.
        let wrong = try ModelFile.parse(bare, path: "bare.safetensors", configurationJSON: other.jsonString())
        #expect(throws: ModelFileError.self) { try wrong.makeNetwork(path: "bare.safetensors") }
    }

    @Test("serialize → parse round trip keeps weights, configuration and schedule")
    func roundTrip() throws {
        let (file, network) = try Self.loadModel()
        let data = ModelFile.serialize(configuration: file.configuration, stateDict: network.stateDict(), extraMetadata: ["steps": "7"])
        let parsed = try ModelFile.parse(data, path: "m.safetensors")
        #expect(parsed.metadata["steps"] == "7" && parsed.metadata["schedule"] == "cosine" && parsed.metadata["T"] == "2000")
        let again = try parsed.makeNetwork(path: "m.safetensors")
        #expect(again.stateDict().map(\.values) == network.stateDict().map(\.values))
        #expect(throws: ModelFileError.self) { try ModelFile.parse(Data([1, 2, 3]), path: "junk") }
    }
}

@Suite("Sampling with a U-Net")
struct NetworkSamplingTests {
    @Test("focus-feature model: seeded, reproducible, in [−1, 1]; different seeds differ")
    func seeded() throws {
        let config = FusionDiffConfiguration(imageChannels: 1, width: 8, mults: [1, 2], resBlocks: 1, groups: 4,
                                             timeChannels: 8, timeEmbedDim: 16, dropout: 0, prediction: .eps, focusFeatures: true)
        let network = UNet(configuration: config, seed: 3)
        let sources = (0..<(2 * 16 * 16)).map { Float(sin(Double($0) * 0.37)) }
        let sampler = DeterministicSampler(steps: 3, prediction: .eps)
        let a = try sampler.sample(network: network, sources: sources, batch: 1, height: 16, width: 16, seed: 9)
        let b = try sampler.sample(network: network, sources: sources, batch: 1, height: 16, width: 16, seed: 9)
        let c = try sampler.sample(network: network, sources: sources, batch: 1, height: 16, width: 16, seed: 10)
        #expect(a.count == 256)
        #expect(a == b)
        #expect(a != c)
        #expect(a.allSatisfy { $0 >= -1 && $0 <= 1 })
    }
}
