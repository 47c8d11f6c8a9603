import NN
import SeededRandom
import Testing
@testable import FusionDiff

@Suite("U-Net transformed Winograd weights")
struct WinogradWeightCacheTests {
    private func input(_ count: Int) -> Tensor {
        var generator = SplitMix64(seed: 9)
        return Tensor(shape: [1, 3, 16, 16], values: (0..<count).map { _ in generator.uniformFloat(bound: 1) })
    }

    @Test("a small network keeps them, and a pass after its parameters change equals a fresh network's")
    func followsParameterChanges() {
        let configuration = FusionDiffConfiguration.small(width: 16)
        let x = input(3 * 16 * 16)
        let network = UNet(configuration: configuration, seed: 1)
        let first = network.forward(x, timesteps: [500])
        #expect(network.winogradWeights.bytes > 0)
        #expect(network.forward(x, timesteps: [500]).values == first.values)
        // Overwrite every parameter with another seed's, as a load or an optimiser step would.
        let other = UNet(configuration: configuration, seed: 2)
        network.parameters.values.baseAddress!.update(from: other.parameters.values.baseAddress!, count: other.parameterCount)
        let changed = network.forward(x, timesteps: [500])
        #expect(changed.values != first.values)
        #expect(changed.values == other.forward(x, timesteps: [500]).values)
        // One weight of one 3×3 layer.
        network.parameters.value(network.parameters.entry("middleBlock.0.0.conv1.2.weight")!.offset)[7] += 0.25
        other.parameters.value(other.parameters.entry("middleBlock.0.0.conv1.2.weight")!.offset)[7] += 0.25
        #expect(network.forward(x, timesteps: [500]).values == other.forward(x, timesteps: [500]).values)
    }

    @Test("a network over the budget keeps none")
    func overBudget() {
        let network = UNet(configuration: .small(width: 64), seed: 1)
        _ = network.forward(input(3 * 16 * 16), timesteps: [10])
        #expect(network.winogradWeights.bytes == 0)
    }
}
