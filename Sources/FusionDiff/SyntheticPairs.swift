import Foundation
import SeededRandom

/// A synthetic multi-focus pair made from one sharp image.
///
/// All images are planar [C, H, W] float32 in [−1, 1]. `mask` is [H, W] in [0, 1]: 1 where
/// source 1 is in focus (there source 1 shows the sharp image), 0 where source 2 is.
public struct SyntheticPair: Sendable, Equatable {
    public var source1: [Float]
    public var source2: [Float]
    /// The sharp image the pair was made from: the ideal fused result.
    public var groundTruth: [Float]
    public var mask: [Float]
}

/// Makes training pairs from sharp images, as the issue asks: a random smooth focus mask
/// (thresholded low-frequency noise, blobs, or a depth-like ramp), Gaussian or disc (defocus)
/// blur of random radius outside it, optional Poisson–Gaussian noise and a microscopy-like
/// 16-bit intensity range. Deterministic for the state of the `SplitMix64` passed in.
public struct SyntheticPairGenerator: Sendable {
    /// The kinds of focus mask.
    public enum MaskKind: String, Sendable, CaseIterable {
        /// Coarse Gaussian noise, upsampled bilinearly, thresholded at a random quantile.
        case lowFrequencyNoise
        /// A union of 1–4 random ellipses.
        case blobs
        /// A linear ramp in a random direction plus a little low-frequency noise, thresholded:
        /// one mostly straight boundary, like a tilted specimen.
        case ramp
    }

    public struct Options: Sendable, Equatable {
        /// Gaussian blur σ range, pixels.
        public var gaussianSigma: ClosedRange<Double> = 1.0...4.0
        /// Disc (defocus) blur radius range, pixels.
        public var discRadius: ClosedRange<Double> = 1.5...6.0
        /// Probability that a blurred region uses the disc rather than the Gaussian.
        public var discProbability: Double = 0.5
        /// Feathering σ range of the mask edge, pixels (0 = hard edge).
        public var featherSigma: ClosedRange<Double> = 0.0...1.5
        /// Probability of adding Poisson–Gaussian noise to both sources.
        public var noiseProbability: Double = 0.3
        /// Photon count at full scale for the Poisson part (lower = noisier).
        public var photons: ClosedRange<Double> = 30...2000
        /// Read-noise σ as a fraction of full scale.
        public var readNoise: ClosedRange<Double> = 0.0...0.01
        /// Probability of a microscopy-like range: a dark-dominated gamma curve, quantised to
        /// 16 bits within a narrow used range, renormalised by the pair's own range.
        public var microscopyRangeProbability: Double = 0.25

        public init() {}
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// A pair from `sharp` ([C, H, W] in [−1, 1]).
    public func makePair(sharp: [Float], channels: Int, height: Int, width: Int,
                         using rng: inout SplitMix64) -> SyntheticPair {
        let plane = height * width
        precondition(sharp.count == channels * plane, "sharp image must be [C, H, W]")
        var image = sharp
        if rng.uniform() < options.microscopyRangeProbability {
            image = Self.microscopyRange(image, using: &rng)
        }
        let kind = MaskKind.allCases[rng.index(below: MaskKind.allCases.count)]
        var mask = Self.mask(kind, height: height, width: width, using: &rng)
        let feather = rng.uniform(options.featherSigma.lowerBound, options.featherSigma.upperBound)
        if feather > 0.2 { mask = Self.gaussianBlur(mask, channels: 1, height: height, width: width, sigma: feather) }
        let blurred1 = randomBlur(image, channels: channels, height: height, width: width, using: &rng)
        let blurred2 = randomBlur(image, channels: channels, height: height, width: width, using: &rng)
        var s1 = [Float](repeating: 0, count: image.count), s2 = s1
        for c in 0..<channels {
            for p in 0..<plane {
                let i = c * plane + p, m = mask[p]
                s1[i] = m * image[i] + (1 - m) * blurred1[i]
                s2[i] = (1 - m) * image[i] + m * blurred2[i]
            }
        }
        if rng.uniform() < options.noiseProbability {
            let photons = rng.uniform(options.photons.lowerBound, options.photons.upperBound)
            let read = rng.uniform(options.readNoise.lowerBound, options.readNoise.upperBound)
            s1 = Self.poissonGaussianNoise(s1, photons: photons, readNoise: read, using: &rng)
            s2 = Self.poissonGaussianNoise(s2, photons: photons, readNoise: read, using: &rng)
        }
        return SyntheticPair(source1: s1, source2: s2, groundTruth: image, mask: mask)
    }

    /// Blurs with a Gaussian or a disc of random size.
    func randomBlur(_ image: [Float], channels: Int, height: Int, width: Int, using rng: inout SplitMix64) -> [Float] {
        if rng.uniform() < options.discProbability {
            let r = rng.uniform(options.discRadius.lowerBound, options.discRadius.upperBound)
            return Self.discBlur(image, channels: channels, height: height, width: width, radius: r)
        }
        let sigma = rng.uniform(options.gaussianSigma.lowerBound, options.gaussianSigma.upperBound)
        return Self.gaussianBlur(image, channels: channels, height: height, width: width, sigma: sigma)
    }

    // MARK: Masks

    /// A focus mask of `kind`, [H, W] with values 0 or 1, both present.
    public static func mask(_ kind: MaskKind, height: Int, width: Int, using rng: inout SplitMix64) -> [Float] {
        var field = [Float](repeating: 0, count: height * width)
        switch kind {
        case .lowFrequencyNoise:
            field = lowFrequencyField(height: height, width: width, cells: 2 + rng.index(below: 5), using: &rng)
        case .blobs:
            let count = 1 + rng.index(below: 4)
            let size = Double(min(height, width))
            var blobs: [(cx: Double, cy: Double, a: Double, b: Double, angle: Double)] = []
            for _ in 0..<count {
                blobs.append((rng.uniform(0, Double(width)), rng.uniform(0, Double(height)),
                              rng.uniform(0.15, 0.5) * size, rng.uniform(0.15, 0.5) * size, rng.uniform(0, Double.pi)))
            }
            for y in 0..<height {
                for x in 0..<width {
                    var inside: Float = 0
                    for blob in blobs {
                        let dx = Double(x) - blob.cx, dy = Double(y) - blob.cy
                        let u = dx * cos(blob.angle) + dy * sin(blob.angle)
                        let v = -dx * sin(blob.angle) + dy * cos(blob.angle)
                        if (u * u) / (blob.a * blob.a) + (v * v) / (blob.b * blob.b) <= 1 { inside = 1 }
                    }
                    field[y * width + x] = inside
                }
            }
            if rng.uniform() < 0.5 { field = field.map { 1 - $0 } }
        case .ramp:
            let angle = rng.uniform(0, 2 * Double.pi)
            let noise = lowFrequencyField(height: height, width: width, cells: 3, using: &rng)
            let amplitude = Float(rng.uniform(0, 0.3))
            let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
            let scale = 1 / Double(max(height, width))
            for y in 0..<height {
                for x in 0..<width {
                    let r = ((Double(x) - cx) * cos(angle) + (Double(y) - cy) * sin(angle)) * scale
                    field[y * width + x] = Float(r) + amplitude * noise[y * width + x]
                }
            }
        }
        // Threshold at a random quantile between 25 % and 75 %, so both sources matter.
        if kind != .blobs || !field.contains(0) || !field.contains(1) {
            let sorted = field.sorted()
            let q = rng.uniform(0.25, 0.75)
            let threshold = sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
            var result = field.map { $0 >= threshold ? Float(1) : 0 }
            if !result.contains(0) || !result.contains(1) {
                // Degenerate (flat field): split down the middle.
                result = (0..<(height * width)).map { ($0 % width) < width / 2 ? 1 : 0 }
            }
            return result
        }
        return field
    }

    /// Gaussian noise on a (cells+1)² grid, bilinearly upsampled to [H, W].
    static func lowFrequencyField(height: Int, width: Int, cells: Int, using rng: inout SplitMix64) -> [Float] {
        let grid = GaussianNoise.sample(count: (cells + 1) * (cells + 1), using: &rng)
        var field = [Float](repeating: 0, count: height * width)
        for y in 0..<height {
            let gy = Double(y) / Double(max(height - 1, 1)) * Double(cells)
            let y0 = min(Int(gy), cells - 1), fy = Float(gy - Double(y0))
            for x in 0..<width {
                let gx = Double(x) / Double(max(width - 1, 1)) * Double(cells)
                let x0 = min(Int(gx), cells - 1), fx = Float(gx - Double(x0))
                let a = grid[y0 * (cells + 1) + x0], b = grid[y0 * (cells + 1) + x0 + 1]
                let c = grid[(y0 + 1) * (cells + 1) + x0], d = grid[(y0 + 1) * (cells + 1) + x0 + 1]
                field[y * width + x] = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
            }
        }
        return field
    }
}
