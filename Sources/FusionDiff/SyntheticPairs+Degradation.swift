import Foundation
import SeededRandom

/// Blur kernels, noise and intensity remapping of the synthetic pair generator. Images are planar
/// [C, H, W]; borders are replicated.
extension SyntheticPairGenerator {
    /// Separable Gaussian blur with σ in pixels (kernel radius ⌈3σ⌉).
    public static func gaussianBlur(_ image: [Float], channels: Int, height: Int, width: Int, sigma: Double) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let plane = height * width
        var tmp = [Float](repeating: 0, count: image.count), out = tmp
        for c in 0..<channels {
            let o = c * plane
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for k in -radius...radius { sum += kernel[k + radius] * image[o + y * width + min(max(x + k, 0), width - 1)] }
                    tmp[o + y * width + x] = sum
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for k in -radius...radius { sum += kernel[k + radius] * tmp[o + min(max(y + k, 0), height - 1) * width + x] }
                    out[o + y * width + x] = sum
                }
            }
        }
        return out
    }

    /// Disc (defocus, pillbox) blur of `radius` pixels, anti-aliased: a tap at distance d has
    /// weight clamp(radius + 0.5 − d, 0, 1), normalised to sum 1.
    public static func discBlur(_ image: [Float], channels: Int, height: Int, width: Int, radius: Double) -> [Float] {
        let r = Int((radius + 0.5).rounded(.up))
        var taps: [(dx: Int, dy: Int, w: Float)] = []
        for dy in -r...r {
            for dx in -r...r {
                let d = (Double(dx * dx + dy * dy)).squareRoot()
                let w = min(max(radius + 0.5 - d, 0), 1)
                if w > 0 { taps.append((dx, dy, Float(w))) }
            }
        }
        let total = taps.reduce(Float(0)) { $0 + $1.w }
        taps = taps.map { ($0.dx, $0.dy, $0.w / total) }
        let plane = height * width
        var out = [Float](repeating: 0, count: image.count)
        for c in 0..<channels {
            let o = c * plane
            for y in 0..<height {
                for x in 0..<width {
                    var sum: Float = 0
                    for t in taps {
                        sum += t.w * image[o + min(max(y + t.dy, 0), height - 1) * width + min(max(x + t.dx, 0), width - 1)]
                    }
                    out[o + y * width + x] = sum
                }
            }
        }
        return out
    }

    /// Poisson–Gaussian noise in the Gaussian approximation: a value v ∈ [−1, 1] is taken as
    /// intensity u = (v + 1)/2 of full scale; u' = u + √(u/photons + readNoise²)·z, z ~ N(0, 1);
    /// clamped to [0, 1] and mapped back.
    public static func poissonGaussianNoise(_ image: [Float], photons: Double, readNoise: Double,
                                            using rng: inout SplitMix64) -> [Float] {
        let z = GaussianNoise.sample(count: image.count, using: &rng)
        var out = image
        for i in 0..<image.count {
            let u = Double(image[i] + 1) / 2
            let sigma = (max(u, 0) / photons + readNoise * readNoise).squareRoot()
            let noisy = min(max(u + sigma * Double(z[i]), 0), 1)
            out[i] = Float(noisy * 2 - 1)
        }
        return out
    }

    /// A microscopy-like intensity range: u = ((v + 1)/2)^γ (γ ∈ [1.5, 3], dark-dominated), placed
    /// in a narrow 16-bit window [offset, offset + span] (offset 50…500, span 500…8000 counts),
    /// rounded to integers, then renormalised to [−1, 1] by its own min/max, as the pipeline
    /// normalises a stack by its range.
    public static func microscopyRange(_ image: [Float], using rng: inout SplitMix64) -> [Float] {
        let gamma = rng.uniform(1.5, 3)
        let offset = rng.uniform(50, 500)
        let span = rng.uniform(500, 8000)
        let counts = image.map { v -> Double in
            let u = min(max(Double(v + 1) / 2, 0), 1)
            return (offset + span * pow(u, gamma)).rounded()
        }
        guard let lo = counts.min(), let hi = counts.max(), hi > lo else { return image }
        return counts.map { Float(2 * ($0 - lo) / (hi - lo) - 1) }
    }
}
