import Foundation

/// A small deterministic pseudo-random generator, so that a recorded seed reproduces a sample,
/// a synthetic pair or a training run bit for bit on every platform.
///
/// Algorithm: SplitMix64 (Steele, Lea & Flood 2014): state += 0x9E3779B97F4A7C15, then the
/// output mix `z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) · 0x94D049BB133111EB;
/// z ^ (z >> 31)`. The whole state is one `UInt64`, so it can be saved in a checkpoint.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The generator's entire state.
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1): the top 53 bits of `next()` times 2⁻⁵³.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform integer in `0..<bound` (bound > 0), by multiply-shift of the top 32 bits: exact
    /// enough for the small bounds used here and identical on every platform.
    public mutating func index(below bound: Int) -> Int {
        precondition(bound > 0)
        // Parenthesised: in Swift `>>` binds tighter than `&*`, so without them the bound was shifted
        // to 0 and every draw returned 0 (every crop, rotation, swap and timestep fixed).
        return Int(((next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// A uniform double in [lower, upper).
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * uniform()
    }
}

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
