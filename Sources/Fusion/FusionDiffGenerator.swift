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
    /// How many symmetry views of the pair are generated and averaged (1…8, see ``SymmetryView``).
    public let views: Int

    /// - Parameters:
    ///   - steps: K, 1…T model evaluations per pair.
    ///   - views: symmetry views averaged per pair (1 = the pair as given; see ``SymmetryView``).
    public init(network: UNet, schedule: NoiseSchedule = NoiseSchedule(), steps: Int, seed: UInt64 = 0, views: Int = 1) {
        precondition((1...SymmetryView.all.count).contains(views), "views must be 1…\(SymmetryView.all.count)")
        self.network = network
        sampler = DeterministicSampler(schedule: schedule, steps: steps, prediction: network.configuration.prediction)
        self.seed = seed
        self.views = views
    }

    /// A generator for a parsed model file (`path` for messages).
    /// - Throws: `ModelFileError` when the weights do not match the configuration.
    public init(model: ModelFile, path: String, steps: Int, seed: UInt64 = 0, views: Int = 1) throws {
        self.init(network: try model.makeNetwork(path: path), schedule: model.schedule, steps: steps, seed: seed, views: views)
    }

    public var channels: Int { network.configuration.imageChannels }
    public var sizeMultiple: Int { network.configuration.sizeMultiple }

    public func generate(_ s1: Image, _ s2: Image) throws -> Image {
        precondition(s1.channels == channels && s2.channels == channels, "the model works on \(channels) channel(s)")
        precondition(s1.width == s2.width && s1.height == s2.height, "sources must share one size")
        precondition(s1.width % sizeMultiple == 0 && s1.height % sizeMultiple == 0,
                     "size must be a multiple of \(sizeMultiple), got \(s1.width)×\(s1.height)")
        var sum = [Float](repeating: 0, count: s1.pixels.count)
        for view in SymmetryView.all.prefix(views) {
            let (a, b) = view.swapsSources ? (s2, s1) : (s1, s2)
            let ta = view.apply(a), tb = view.apply(b)
            let fused = try sampler.sample(network: network, sources: ta.pixels + tb.pixels, batch: 1,
                                           height: ta.height, width: ta.width, seed: seed)
            let back = view.invert(Image(width: ta.width, height: ta.height, channels: channels, pixels: fused))
            for i in sum.indices { sum[i] += back.pixels[i] }
        }
        let scale = 1 / Float(views)
        for i in sum.indices { sum[i] *= scale }
        return Image(width: s1.width, height: s1.height, channels: channels, pixels: sum)
    }
}

/// A symmetry of the fusion task: the fused image of a flipped, transposed or source-swapped pair
/// is the same transform of the fused image. The model was trained under all of them (random flips,
/// 90° rotations and source order), so averaging its outputs over several views removes part of
/// its error that is not shared between views (a test-time ensemble; each view costs one more pass).
///
/// Order: as given, sources swapped, mirrored left–right, mirrored and swapped, mirrored top–bottom,
/// and swapped, transposed, and swapped — the first n are used.
public struct SymmetryView: Sendable, Equatable {
    public var swapsSources: Bool
    public var mirrorsX: Bool
    public var mirrorsY: Bool
    public var transposes: Bool

    public static let all: [SymmetryView] = [
        SymmetryView(swapsSources: false, mirrorsX: false, mirrorsY: false, transposes: false),
        SymmetryView(swapsSources: true, mirrorsX: false, mirrorsY: false, transposes: false),
        SymmetryView(swapsSources: false, mirrorsX: true, mirrorsY: false, transposes: false),
        SymmetryView(swapsSources: true, mirrorsX: true, mirrorsY: false, transposes: false),
        SymmetryView(swapsSources: false, mirrorsX: false, mirrorsY: true, transposes: false),
        SymmetryView(swapsSources: true, mirrorsX: false, mirrorsY: true, transposes: false),
        SymmetryView(swapsSources: false, mirrorsX: false, mirrorsY: false, transposes: true),
        SymmetryView(swapsSources: true, mirrorsX: false, mirrorsY: false, transposes: true),
    ]

    /// The image seen in this view: mirrored, then transposed.
    public func apply(_ image: Image) -> Image {
        remap(image, inverse: false)
    }

    /// Undoes ``apply(_:)``.
    public func invert(_ image: Image) -> Image {
        remap(image, inverse: true)
    }

    private func remap(_ image: Image, inverse: Bool) -> Image {
        if !mirrorsX && !mirrorsY && !transposes { return image }
        let w = image.width, h = image.height
        let (ow, oh) = transposes ? (h, w) : (w, h)
        var out = [Float](repeating: 0, count: image.pixels.count)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<image.channels {
                    let si = c * w * h, di = c * ow * oh
                    for y in 0..<oh {
                        for x in 0..<ow {
                            // Output (x, y) of the forward map reads the source at the mirrored,
                            // transposed position; mirroring and transposing are their own inverses,
                            // applied in the opposite order for `inverse`.
                            var sx = x, sy = y
                            if inverse {
                                if mirrorsX { sx = ow - 1 - sx }
                                if mirrorsY { sy = oh - 1 - sy }
                                if transposes { swap(&sx, &sy) }
                            } else {
                                if transposes { swap(&sx, &sy) }
                                if mirrorsX { sx = w - 1 - sx }
                                if mirrorsY { sy = h - 1 - sy }
                            }
                            dst[di + y * ow + x] = src[si + sy * w + sx]
                        }
                    }
                }
            }
        }
        return Image(width: ow, height: oh, channels: image.channels, pixels: out)
    }
}
