import NN
import SeededRandom
import Testing
@testable import FusionDiff

/// A tiny configuration like the golden one (luminance, width 8, mults 1, 2, groups 4).
private func tinyConfiguration(dropout: Float = 0.1, mults: [Int] = [1, 2]) -> FusionDiffConfiguration {
    FusionDiffConfiguration(imageChannels: 1, width: 8, mults: mults, resBlocks: 2, groups: 4, timeChannels: 8,
                            timeEmbedDim: 32, dropout: dropout)
}

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var generator = SplitMix64(seed: seed)
    return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in generator.uniformFloat(bound: 1) })
}

@Suite("U-Net backward")
struct UNetBackwardTests {
    @Test("training forward without dropout equals the inference forward")
    func trainingForwardMatchesInference() {
        let network = UNet(configuration: tinyConfiguration(dropout: 0, mults: [1, 2, 2]), seed: 3)
        let input = randomTensor([2, 3, 10, 14], seed: 4)
        let inference = network.forward(input, timesteps: [5, 1500])
        let training = network.trainingForward(input, timesteps: [5, 1500], dropoutSeed: 9)
        #expect(training.shape == inference.shape)
        let difference = zip(training.values, inference.values).map { abs($0 - $1) }.max() ?? 0
        #expect(difference < 1e-5)
    }

    @Test("parameter gradients of the whole network equal central finite differences (dropout masks fixed by the seed)")
    func finiteDifferences() {
        let network = UNet(configuration: tinyConfiguration(mults: [1, 2, 2]), seed: 1)
        // Non-trivial GroupNorm affine parameters so their gradients are exercised off the default 1/0.
        var generator = SplitMix64(seed: 2)
        for entry in network.parameters.entries where entry.shape.count == 1 {
            for i in 0..<entry.count { network.parameters.values[entry.offset + i] += generator.uniformFloat(bound: 0.2) }
        }
        // Three levels at 10×14: 10→5→3 and 14→7→4, so the decoder crops 6×8 to 5×7 before a skip add.
        let input = randomTensor([2, 3, 10, 14], seed: 5)
        let timesteps = [17, 1234]
        let projection = randomTensor([2, 1, 10, 14], seed: 6)
        func loss() -> Double {
            let output = network.trainingForward(input, timesteps: timesteps, dropoutSeed: 42)
            return zip(output.values, projection.values).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        network.parameters.zeroGradients()
        _ = network.trainingForward(input, timesteps: timesteps, dropoutSeed: 42)
        network.backward(outputGradient: projection)
        let analytic = Array(network.parameters.gradients)

        let probes: [(String, Int)] = [
            ("time_embed.0.weight", 3), ("time_embed.0.bias", 1), ("time_embed.2.weight", 40), ("inBlock.weight", 5),
            ("inBlock.bias", 2), ("downBlock.0.0.conv1.0.weight", 2), ("downBlock.1.0.conv2.0.bias", 6),
            ("downBlock.0.0.time_emb.1.weight", 9), ("downBlock.2.0.op.weight", 7), ("downBlock.3.0.shortcut.weight", 4),
            ("downBlock.3.0.conv1.2.weight", 100), ("downBlock.5.0.op.bias", 3), ("upBlock.7.0.op.weight", 30), ("middleBlock.1.0.time_emb.1.bias", 3), ("middleBlock.0.0.conv2.3.weight", 33),
            ("upBlock.2.0.shortcut.bias", 1), ("upBlock.2.0.shortcut.weight", 20), ("upBlock.1.0.conv2.3.bias", 0), ("upBlock.4.0.op.weight", 11),
            ("upBlock.4.0.op.bias", 2), ("outBlock.0.weight", 3), ("outBlock.0.bias", 5), ("outBlock.2.weight", 5),
            ("outBlock.2.bias", 0),
        ]
        let step: Float = 4e-3
        for (name, index) in probes {
            guard let entry = network.parameters.entry(name) else { Issue.record("no parameter \(name)"); continue }
            let offset = entry.offset + index
            let original = network.parameters.values[offset]
            network.parameters.values[offset] = original + step
            let plus = loss()
            network.parameters.values[offset] = original - step
            let minus = loss()
            network.parameters.values[offset] = original
            let numeric = (plus - minus) / Double(2 * step)
            let error = abs(Double(analytic[offset]) - numeric)
            #expect(error <= 0.02 * abs(numeric) + 5e-3, "\(name)[\(index)]: analytic \(analytic[offset]), numeric \(numeric)")
        }
    }

    @Test("the training step of the small configuration at 128², batch 8, is estimated under 4 GB")
    func memoryEstimate() {
        let network = UNet(configuration: .small())
        let bytes = network.trainingMemoryEstimate(batch: 8, height: 128, width: 128)
        #expect(bytes < 4 << 30)
        #expect(bytes > 100 << 20)
    }
}
