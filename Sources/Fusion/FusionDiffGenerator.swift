import FusionDiff
import Imaging
import NN

/// The FusionDiff sampler as a `PairGenerator`: K steps of the deterministic sampler with a
/// trained U-Net, initial noise from a recorded seed (the same for every call, so a pair, a tile
/// and a rerun all reproduce exactly).
///
/// Not safe to share across threads (the U-Net reuses its scratch buffers): one per worker.
public struct FusionDiffGenerator: PairGenerator {
    public let network: UNet
    public let sampler: DeterministicSampler
    /// Seed of x_T (`GaussianNoise.sample(count: C·H·W, seed: seed)`).
    public let seed: UInt64

    /// - Parameters:
    ///   - steps: K, 1…T model evaluations per pair.
    public init(network: UNet, schedule: NoiseSchedule = NoiseSchedule(), steps: Int, seed: UInt64 = 0) {
        self.network = network
        sampler = DeterministicSampler(schedule: schedule, steps: steps, prediction: network.configuration.prediction)
        self.seed = seed
    }

    /// A generator for a parsed model file (`path` for messages).
    /// - Throws: `ModelFileError` when the weights do not match the configuration.
    public init(model: ModelFile, path: String, steps: Int, seed: UInt64 = 0) throws {
        self.init(network: try model.makeNetwork(path: path), schedule: model.schedule, steps: steps, seed: seed)
    }

    public var channels: Int { network.configuration.imageChannels }
    public var sizeMultiple: Int { network.configuration.sizeMultiple }

    public func generate(_ s1: Image, _ s2: Image) throws -> Image {
        precondition(s1.channels == channels && s2.channels == channels, "the model works on \(channels) channel(s)")
        precondition(s1.width == s2.width && s1.height == s2.height, "sources must share one size")
        precondition(s1.width % sizeMultiple == 0 && s1.height % sizeMultiple == 0,
                     "size must be a multiple of \(sizeMultiple), got \(s1.width)×\(s1.height)")
        let fused = try sampler.sample(network: network, sources: s1.pixels + s2.pixels, batch: 1,
                                       height: s1.height, width: s1.width, seed: seed)
        return Image(width: s1.width, height: s1.height, channels: channels, pixels: fused)
    }
}
