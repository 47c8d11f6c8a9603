import Foundation
import NN
import SeededRandom

/// The FusionDiff noise-prediction U-Net (ARCHITECTURE.md, "FusionDiff"): time MLP, encoder with stride-2
/// downsampling, two middle ResBlocks, decoder with transposed-convolution upsampling and additive
/// skips, GroupNorm → SiLU → conv3×3 output. No attention.
///
/// Layout: input `[N, inputChannels, H, W]` = `[S1, S2, x_t, (E1, E2)]`, output
/// `[N, imageChannels, H, W]` (ε̂, x̂₀ or v̂ per ``FusionDiffConfiguration/prediction``).
/// H and W must be even (the decoder crops to the skips' sizes, so any even size works).
///
/// All parameters live in one flat ``ParameterBuffer`` under the official PyTorch names, so a
/// published `state_dict` saved as safetensors loads unchanged. An instance keeps scratch buffers
/// between passes and is not safe to share across threads: use one per worker.
public final class UNet {
    public let configuration: FusionDiffConfiguration
    /// Every parameter and its gradient, flat, in the official `state_dict` order.
    public let parameters: ParameterBuffer
    let layout: UNetLayout
    /// Activation and small scratch buffers reused by every inference pass.
    let buffers = Workspace()
    /// im2col column buffers.
    let columns = Workspace()
    /// Transformed Winograd weights reused by inference passes (small networks only).
    let winogradWeights = WinogradWeightCache()
    /// State recorded by ``trainingForward(_:timesteps:dropoutSeed:)`` for ``backward(outputGradient:)``.
    var tape: TrainingTape?

    /// Builds the network with PyTorch's default initialisation (uniform ±1/√fan_in for conv and
    /// linear weights and biases, GroupNorm γ = 1, β = 0), drawn from `seed`.
    public init(configuration: FusionDiffConfiguration, seed: UInt64 = 0) {
        precondition(configuration.problems.isEmpty, "invalid configuration: \(configuration.problems.joined(separator: "; "))")
        self.configuration = configuration
        parameters = ParameterBuffer()
        layout = UNetLayout(configuration: configuration, parameters: parameters)
        parameters.allocate()
        var generator = SplitMix64(seed: seed)
        for entry in parameters.entries {
            let values = parameters.value(entry.offset)
            let isNorm = entry.shape.count == 1 && (entry.name.hasSuffix(".0.weight") || entry.name.hasSuffix(".0.bias"))
                && !entry.name.hasPrefix("time_embed")
            if isNorm {
                values.update(repeating: entry.name.hasSuffix("weight") ? 1 : 0, count: entry.count)
                continue
            }
            let bound = 1 / Float(fanIn(of: entry)).squareRoot()
            for i in 0..<entry.count { values[i] = generator.uniformFloat(bound: bound) }
        }
    }

    /// PyTorch's fan-in: `shape[1]·kh·kw` for weights (for ConvTranspose2d that is
    /// `out·kh·kw`), and the owning weight's fan-in for a bias.
    private func fanIn(of entry: ParameterBuffer.Entry) -> Int {
        var weight = entry
        if entry.name.hasSuffix(".bias"), let owner = parameters.entry(String(entry.name.dropLast(5)) + ".weight") {
            weight = owner
        }
        guard weight.shape.count >= 2 else { return max(1, weight.shape.first ?? 1) }
        return weight.shape[1] * weight.shape.dropFirst(2).reduce(1, *)
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters.count }

    /// Multiply-adds of the convolutions (direct and transposed) in one forward pass.
    public func multiplyAdds(batch: Int = 1, height: Int, width: Int) -> Int {
        layout.multiplyAdds(batch: batch, height: height, width: width)
    }

    /// Loads a `state_dict` saved under the official parameter names.
    ///
    /// - Throws: ``SafeTensorsError`` naming the key and both shapes for a missing, extra or
    ///   mis-shaped tensor, or an unsupported dtype.
    public func load(safetensors file: SafeTensorsFile) throws {
        try parameters.load(from: file)
    }

    /// The parameters as `(name, shape, values)` in the official `state_dict` order.
    public func stateDict() -> [(name: String, shape: [Int], values: [Float])] {
        parameters.stateDict()
    }

    /// The network as safetensors bytes, with the configuration under `__metadata__["config"]`
    /// plus any extra metadata.
    public func safetensorsData(metadata: [String: String] = [:]) -> Data {
        var all = metadata
        all["config"] = configuration.jsonString()
        return SafeTensorsFile.serialize(tensors: stateDict(), metadata: all)
    }

    /// Bytes held by the inference scratch buffers (activations, skips, columns, transformed weights).
    public var scratchBytes: Int { buffers.bytes + columns.bytes + winogradWeights.bytes }
}
