import Foundation
import NN

extension ModelFile {
    /// Builds the U-Net of this file's configuration and loads its weights.
    /// - Throws: `ModelFileError` naming `path` and the offending tensor (missing, extra, wrong shape).
    public func makeNetwork(path: String) throws -> UNet {
        let network = UNet(configuration: configuration)
        do { try network.load(safetensors: tensors) } catch {
            throw ModelFileError(path: path, message: "\(error); check that the file matches its configuration \(configuration.jsonString())")
        }
        return network
    }
}

extension DeterministicSampler {
    /// The sampler's model closure for a U-Net: every batch item gets the step's timestep.
    public static func model(_ network: UNet) -> Model {
        { input, shape, timestep in
            network.forward(Tensor(shape: shape, values: input), timesteps: Array(repeating: timestep, count: shape[0])).values
        }
    }

    /// Samples a fused image with `network` for sources [N, 2·C, H, W] in [−1, 1], computing the
    /// focus-feature channels when the configuration asks for them; x_T from `seed`
    /// (`GaussianNoise.sample(count: N·C·H·W, seed:)`). Returns [N, C, H, W] in [−1, 1].
    public func sample(network: UNet, sources: [Float], batch: Int, height: Int, width: Int, seed: UInt64) throws -> [Float] {
        let c = network.configuration.imageChannels
        let features = network.configuration.focusFeatures
            ? FocusFeatures.compute(sources: sources, batch: batch, imageChannels: c, height: height, width: width)
            : nil
        return try sample(sources: sources, features: features, batch: batch, channels: c, height: height, width: width,
                          initialNoise: GaussianNoise.sample(count: batch * c * height * width, seed: seed),
                          model: Self.model(network))
    }
}
