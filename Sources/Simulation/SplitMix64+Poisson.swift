import Foundation
import SeededRandom

/// The Poisson draw the simulator needs on top of the project's one seeded generator's uniform
/// and normal draws. Deterministic for a seed on every platform.
extension SplitMix64 {
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

