import Foundation
import NN

/// Draws the simulator needs on top of the project's one seeded generator (`NN.SeededGenerator`):
/// uniform doubles, standard normals and Poisson counts. Deterministic for a seed on every platform.
struct SimulationRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func uniform() -> Double { Double(generator.next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }

    /// A standard normal draw (Box–Muller; one value per call, so the sequence is simple to reason about).
    mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Poisson count with mean `lambda` ≥ 0: exact (Knuth) below 30, the normal approximation
    /// with continuity correction above (its error is far below the photon noise it models).
    mutating func poisson(_ lambda: Double) -> Double {
        guard lambda > 0 else { return 0 }
        if lambda < 30 {
            let limit = exp(-lambda)
            var product = uniform(), count = 0.0
            while product > limit {
                count += 1
                product *= uniform()
            }
            return count
        }
        return max(0, (lambda + lambda.squareRoot() * normal() + 0.5).rounded(.down))
    }
}

