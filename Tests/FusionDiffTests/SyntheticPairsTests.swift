import SeededRandom
import Testing
@testable import FusionDiff

@Suite("Synthetic pair generator")
struct SyntheticPairsTests {
    /// A sharp, textured test image in [−1, 1]: fine stripes plus a checkerboard.
    static func sharpImage(channels: Int, height: Int, width: Int) -> [Float] {
        var out = [Float]()
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let checker: Float = ((x / 2 + y / 2) % 2 == 0) ? 0.5 : -0.5
                    out.append(checker + 0.3 * Float(((x + c) % 3)) / 2 - 0.15)
                }
            }
        }
        return out
    }

    static func laplacianEnergy(_ img: [Float], width: Int, height: Int, where include: (Int) -> Bool) -> Double {
        var sum = 0.0, n = 0
        for y in 1..<(height - 1) {
            for x in 1..<(width - 1) where include(y * width + x) {
                let p = y * width + x
                let l = img[p - 1] + img[p + 1] + img[p - width] + img[p + width] - 4 * img[p]
                sum += Double(l * l)
                n += 1
            }
        }
        return n > 0 ? sum / Double(n) : 0
    }

    @Test("deterministic for a seed, different across seeds")
    func deterministic() {
        let sharp = Self.sharpImage(channels: 1, height: 24, width: 32)
        let generator = SyntheticPairGenerator()
        var a = SplitMix64(seed: 5), b = SplitMix64(seed: 5), c = SplitMix64(seed: 6)
        let p1 = generator.makePair(sharp: sharp, channels: 1, height: 24, width: 32, using: &a)
        let p2 = generator.makePair(sharp: sharp, channels: 1, height: 24, width: 32, using: &b)
        let p3 = generator.makePair(sharp: sharp, channels: 1, height: 24, width: 32, using: &c)
        #expect(p1 == p2)
        #expect(p1 != p3)
    }

    @Test("each mask kind gives a binary mask with both sources present", arguments: SyntheticPairGenerator.MaskKind.allCases)
    func maskKinds(kind: SyntheticPairGenerator.MaskKind) {
        for seed in 0..<10 {
            var rng = SplitMix64(seed: UInt64(seed))
            let mask = SyntheticPairGenerator.mask(kind, height: 32, width: 32, using: &rng)
            #expect(mask.allSatisfy { $0 == 0 || $0 == 1 })
            let fraction = Double(mask.reduce(0, +)) / Double(mask.count)
            #expect(fraction > 0.05 && fraction < 0.95, "\(kind) seed \(seed): focus fraction \(fraction)")
        }
    }

    @Test("sharp where the mask says so, blurred elsewhere; values in [−1, 1]")
    func composition() {
        var options = SyntheticPairGenerator.Options()
        options.noiseProbability = 0
        options.microscopyRangeProbability = 0
        options.featherSigma = 0...0
        let generator = SyntheticPairGenerator(options: options)
        let (h, w) = (32, 32)
        let sharp = Self.sharpImage(channels: 3, height: h, width: w)
        for seed in 0..<6 {
            var rng = SplitMix64(seed: UInt64(seed))
            let pair = generator.makePair(sharp: sharp, channels: 3, height: h, width: w, using: &rng)
            #expect(pair.groundTruth == sharp)
            for c in 0..<3 {
                for p in 0..<(h * w) {
                    let i = c * h * w + p
                    if pair.mask[p] == 1 { #expect(pair.source1[i] == sharp[i]) } else { #expect(pair.source2[i] == sharp[i]) }
                }
            }
            let out1 = Self.laplacianEnergy(pair.source1, width: w, height: h) { pair.mask[$0] == 0 }
            let out2 = Self.laplacianEnergy(pair.source2, width: w, height: h) { pair.mask[$0] == 1 }
            let full = Self.laplacianEnergy(sharp, width: w, height: h) { _ in true }
            #expect(out1 < 0.5 * full && out2 < 0.5 * full, "seed \(seed): blurred energies \(out1), \(out2) vs sharp \(full)")
            #expect((pair.source1 + pair.source2).allSatisfy { $0 >= -1 && $0 <= 1 })
        }
    }

    @Test("blur kernels preserve a constant image and the mean; disc and Gaussian smooth an edge")
    func kernels() {
        let constant = [Float](repeating: 0.25, count: 16 * 16)
        let g = SyntheticPairGenerator.gaussianBlur(constant, channels: 1, height: 16, width: 16, sigma: 2)
        let d = SyntheticPairGenerator.discBlur(constant, channels: 1, height: 16, width: 16, radius: 3.3)
        #expect(g.allSatisfy { abs($0 - 0.25) < 1e-6 })
        #expect(d.allSatisfy { abs($0 - 0.25) < 1e-6 })
        let edge = (0..<(16 * 16)).map { Float(($0 % 16) < 8 ? -1 : 1) }
        let blurred = SyntheticPairGenerator.discBlur(edge, channels: 1, height: 16, width: 16, radius: 3)
        #expect(blurred[5 * 16 + 7] > -1 && blurred[5 * 16 + 7] < 0)
        #expect(blurred[5 * 16 + 8] > 0 && blurred[5 * 16 + 8] < 1)
        #expect(abs(blurred[5 * 16 + 0] + 1) < 1e-5)
    }

    @Test("Poisson–Gaussian noise grows with intensity and is absent without photon or read noise")
    func noise() {
        var rng = SplitMix64(seed: 1)
        let dark = [Float](repeating: -0.9, count: 20_000), bright = [Float](repeating: 0.2, count: 20_000)
        func std(_ x: [Float], _ mean: Float) -> Double {
            (x.reduce(0.0) { $0 + Double(($1 - mean) * ($1 - mean)) } / Double(x.count)).squareRoot()
        }
        let nd = SyntheticPairGenerator.poissonGaussianNoise(dark, photons: 100, readNoise: 0, using: &rng)
        let nb = SyntheticPairGenerator.poissonGaussianNoise(bright, photons: 100, readNoise: 0, using: &rng)
        #expect(std(nb, 0.2) > 2 * std(nd, -0.9))
        // u = 0.6 → σ_u = √(0.6/100) = 0.0775 → σ_v = 0.155
        #expect(abs(std(nb, 0.2) - 0.155) < 0.005)
        let clean = SyntheticPairGenerator.poissonGaussianNoise(bright, photons: 1e12, readNoise: 0, using: &rng)
        #expect(clean.allSatisfy { abs($0 - 0.2) < 1e-4 })
    }

    @Test("microscopy range: integer 16-bit counts renormalised to exactly [−1, 1], order preserved")
    func microscopyRange() {
        var rng = SplitMix64(seed: 2)
        let ramp = (0..<256).map { Float($0) / 127.5 - 1 }
        let out = SyntheticPairGenerator.microscopyRange(ramp, using: &rng)
        #expect(out.min() == -1 && out.max() == 1)
        for i in 1..<out.count { #expect(out[i] >= out[i - 1]) }
        // Dark-dominated: the midpoint of the input maps below the midpoint of the output.
        #expect(out[128] < 0)
    }
}
