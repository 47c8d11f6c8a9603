import Foundation

/// The project's one seeded pseudo-random generator, so that a recorded seed reproduces a weight
/// initialisation, a dropout mask, a synthetic pair, a simulated stack or a training run bit for
/// bit on every platform.
///
/// Algorithm: SplitMix64 (Steele, Lea & Flood 2014): state += 0x9E3779B97F4A7C15, then the
/// output mix `z = (z ^ (z >> 30)) · 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) · 0x94D049BB133111EB;
/// z ^ (z >> 31)`. The whole state is one `UInt64`, so it can be saved in a checkpoint.
///
/// It is a `RandomNumberGenerator`, so new code draws bounded integers with the standard library
/// (`Int.random(in: 0..<n, using: &rng)`). The named draws below fix the exact sequences that
/// golden values, tests and the shipped model's training depend on; changing any of them changes
/// those sequences.
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
}

// MARK: - Named draws

extension SplitMix64 {
    /// A uniform double in [0, 1): the top 53 bits of `next()` times 2⁻⁵³.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A uniform double in [lower, upper): `lower + (upper − lower) · uniform()`.
    public mutating func uniform(_ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * uniform()
    }

    /// A uniform float in [0, 1): the top 24 bits of `next()` times 2⁻²⁴ (weight initialisation,
    /// dropout masks, test data).
    public mutating func uniformFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform float in [−bound, bound): `(2 · uniformFloat() − 1) · bound`.
    public mutating func uniformFloat(bound: Float) -> Float {
        (2 * uniformFloat() - 1) * bound
    }

    /// A uniform integer in `0..<bound` (bound > 0) by multiply-shift of the top 32 bits.
    ///
    /// Kept instead of `Int.random(in:using:)` because the trainer's crops, rotations, swaps and
    /// timesteps — and so the shipped model's training — were drawn with it; the standard
    /// library's bounded draw gives a different sequence.
    public mutating func index(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        // `>>` binds tighter than `&*` in Swift: without the parentheses the bound is shifted to 0.
        return Int(((next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// A uniform integer in `0..<bound` as `next() % bound` (0 when bound ≤ 1): the draw the
    /// shipped model's texture pairs were cut with (`focusd train --textures`). Slightly biased for
    /// bounds that do not divide 2⁶⁴; new code uses `Int.random(in:using:)`.
    public mutating func remainder(below bound: Int) -> Int {
        bound <= 1 ? 0 : Int(next() % UInt64(bound))
    }

    /// Two independent standard normals by Box–Muller: u₁ = max(uniform(), 10⁻³⁰⁰), u₂ = uniform(),
    /// r = √(−2 ln u₁), the pair (r·cos 2πu₂, r·sin 2πu₂).
    public mutating func normalPair() -> (Double, Double) {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        let r = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (r * cos(angle), r * sin(angle))
    }

    /// One standard normal: the cosine half of ``normalPair()`` (two uniforms per call).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
