import Foundation
import SeededRandom

/// Standard normal samples from `SplitMix64` by the Box–Muller transform: for each pair of
/// uniforms u₁ = 1 − uniform() ∈ (0, 1], u₂ = uniform(), r = √(−2 ln u₁), the samples are
/// r·cos(2πu₂) then r·sin(2πu₂) (computed in float64, rounded to float32).
public enum GaussianNoise {
    /// `count` standard normal float32 values from `seed` (x_T of the sampler is
    /// `GaussianNoise.sample(count: N·C·H·W, seed: seed)` in NCHW order).
    public static func sample(count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return sample(count: count, using: &rng)
    }

    /// `count` standard normal float32 values drawn from `rng` (advancing it).
    public static func sample(count: Int, using rng: inout SplitMix64) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = 1 - rng.uniform()
            let u2 = rng.uniform()
            let r = (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            out[i] = Float(r * cos(angle))
            if i + 1 < count { out[i + 1] = Float(r * sin(angle)) }
            i += 2
        }
        return out
    }

    /// One standard normal value drawn from `rng` (uses a fresh uniform pair; the sine half is dropped).
    public static func next(using rng: inout SplitMix64) -> Double {
        let u1 = 1 - rng.uniform()
        let u2 = rng.uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
