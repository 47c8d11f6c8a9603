import Foundation
import NN
import Testing
@testable import FusionDiff

/// `<package root>/../shared/golden/fusiondiff-tiny`.
private var goldenDirectory: URL { TestData.golden }

private func loadGoldenNetwork() throws -> (UNet, [String: Any]) {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenDirectory.appendingPathComponent("golden.json"))) as! [String: Any]
    let configData = try JSONSerialization.data(withJSONObject: json["config"]!)
    let configuration = try JSONDecoder().decode(FusionDiffConfiguration.self, from: configData)
    let file = try SafeTensorsFile(data: Data(contentsOf: goldenDirectory.appendingPathComponent("weights.safetensors")))
    let fromMetadata = try FusionDiffConfiguration.fromJSON(file.metadata["config"] ?? "")
    #expect(fromMetadata == configuration)
    let network = UNet(configuration: configuration)
    try network.load(safetensors: file)
    return (network, json)
}

private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("U-Net golden parity")
struct UNetGoldenTests {
    @Test("the published configuration has 26,915,395 parameters")
    func paperParameterCount() {
        // Counting needs only the layout, not a pass; building allocates 108 MB of values.
        let network = UNet(configuration: .paper)
        #expect(network.parameterCount == 26_915_395)
        #expect(FusionDiffConfiguration.small(width: 16).inputChannels == 3)
        #expect(UNet(configuration: .small(width: 16)).parameterCount == 1_688_081)
    }

    @Test("the tiny network's parameter names, order and count match the PyTorch state_dict")
    func stateDictMatchesGolden() throws {
        let (network, json) = try loadGoldenNetwork()
        #expect(network.parameterCount == json["parameters"] as? Int)
        let file = try SafeTensorsFile(data: Data(contentsOf: goldenDirectory.appendingPathComponent("weights.safetensors")))
        #expect(network.stateDict().map(\.name) == file.tensorNames)
        for (name, shape, values) in network.stateDict() {
            #expect(file.entry(name)?.shape == shape)
            #expect(try file.floats(name) == values)
        }
    }

    @Test("forward and time embedding agree with PyTorch within 1e-4")
    func forwardParity() throws {
        let (network, json) = try loadGoldenNetwork()
        let t = json["t"] as! Int
        let input = try TestData.readNPY(goldenDirectory.appendingPathComponent("input.npy"))
        let expected = try TestData.readNPY(goldenDirectory.appendingPathComponent("output.npy"))
        let expectedEmbedding = try TestData.readNPY(goldenDirectory.appendingPathComponent("temb.npy"))

        let embedding = network.timeEmbedding(timesteps: [t])
        #expect(embedding.shape == expectedEmbedding.shape)
        let embeddingError = maxAbsDifference(embedding.values, expectedEmbedding.values)
        #expect(embeddingError < 1e-4, "time MLP max |Δ| = \(embeddingError)")

        let output = network.forward(Tensor(shape: input.shape, values: input.values), timesteps: [t])
        #expect(output.shape == expected.shape)
        let error = maxAbsDifference(output.values, expected.values)
        #expect(error < 1e-4, "output max |Δ| = \(error)")

        // A second pass reuses the buffers and gives the same result.
        let bytes = network.scratchBytes
        let again = network.forward(Tensor(shape: input.shape, values: input.values), timesteps: [t])
        #expect(again == output)
        #expect(network.scratchBytes == bytes)
    }

    @Test("a batch of two gives each item's single-item result")
    func batchMatchesSingles() throws {
        let (network, json) = try loadGoldenNetwork()
        let t = json["t"] as! Int
        let input = try TestData.readNPY(goldenDirectory.appendingPathComponent("input.npy"))
        let single = network.forward(Tensor(shape: input.shape, values: input.values), timesteps: [t])
        let flipped = Array(input.values.reversed())
        let singleFlipped = network.forward(Tensor(shape: input.shape, values: flipped), timesteps: [17])
        var shape = input.shape
        shape[0] = 2
        let batch = network.forward(Tensor(shape: shape, values: input.values + flipped), timesteps: [t, 17])
        #expect(maxAbsDifference(batch.values, single.values + singleFlipped.values) < 1e-5)
    }
}
