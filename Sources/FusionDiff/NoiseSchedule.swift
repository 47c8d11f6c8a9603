import Foundation

/// The cosine noise schedule of FusionDiff (Nichol & Dhariwal's cosine schedule, as in the
/// published code), held in float64.
///
/// ᾱ(s) = cos²(((s + 0.008) / 1.008) · π/2), βᵢ = min(1 − ᾱ((i+1)/T) / ᾱ(i/T), 0.999) for
/// i = 0…T−1, and the cumulative product `alphaBar[i]` = ∏_{j≤i} (1 − βⱼ). Timesteps are the
/// integers 0…T−1 the model is conditioned on. Check values for T = 2000: β₀ = 2.0035e-5,
/// β₉₉₉ = 1.5754e-3, ᾱ₉₉₉ = 0.4938, ᾱ₁₉₉₉ ≈ 6.1e-10 (the last β is clipped to 0.999).
public struct NoiseSchedule: Sendable, Equatable {
    /// The schedule's name as written in a model file's metadata.
    public static let cosineName = "cosine"

    /// Number of diffusion steps T.
    public let timesteps: Int
    /// βᵢ, i = 0…T−1.
    public let betas: [Double]
    /// ᾱᵢ = ∏_{j≤i} (1 − βⱼ), i = 0…T−1.
    public let alphaBar: [Double]

    /// The cosine schedule with `timesteps` steps (the published T is 2000).
    public init(cosineWithTimesteps timesteps: Int = 2000) {
        precondition(timesteps >= 1, "a schedule needs at least one step")
        func f(_ s: Double) -> Double {
            let c = cos(((s + 0.008) / 1.008) * Double.pi / 2)
            return c * c
        }
        var betas = [Double](repeating: 0, count: timesteps)
        var alphaBar = [Double](repeating: 0, count: timesteps)
        var product = 1.0
        let count = Double(timesteps)
        for i in 0..<timesteps {
            let beta = min(1 - f(Double(i + 1) / count) / f(Double(i) / count), 0.999)
            betas[i] = beta
            product *= 1 - beta
            alphaBar[i] = product
        }
        self.timesteps = timesteps
        self.betas = betas
        self.alphaBar = alphaBar
    }

    /// The K timesteps a respaced sampler visits, ascending: τᵢ = ⌊(i+1)·T/K⌋ − 1, i = 0…K−1,
    /// always ending at T − 1. K = T gives every timestep (the published sampler).
    public func respacedTimesteps(_ steps: Int) -> [Int] {
        precondition(steps >= 1 && steps <= timesteps, "steps must lie in 1…\(timesteps), got \(steps)")
        return (0..<steps).map { (($0 + 1) * timesteps) / steps - 1 }
    }

    /// The coefficients of one deterministic sampler step from timestep `t` to the previous visited
    /// timestep `previous` (`nil` after the last step, where ᾱ_prev = 1).
    public func step(from t: Int, to previous: Int?) -> SamplerStep {
        precondition(t >= 0 && t < timesteps, "timestep \(t) outside 0…\(timesteps - 1)")
        let alphaBarT = alphaBar[t]
        let alphaBarPrev: Double
        if let previous {
            precondition(previous >= 0 && previous < t, "previous timestep \(previous) must lie below \(t)")
            alphaBarPrev = alphaBar[previous]
        } else {
            alphaBarPrev = 1
        }
        let alpha = alphaBarT / alphaBarPrev
        let beta = 1 - alpha
        return SamplerStep(
            timestep: t,
            alphaBar: alphaBarT,
            alphaBarPrevious: alphaBarPrev,
            sqrtRecipAlphaBar: (1 / alphaBarT).squareRoot(),
            sqrtRecipAlphaBarMinusOne: (1 / alphaBarT - 1).squareRoot(),
            coefficientX0: beta * alphaBarPrev.squareRoot() / (1 - alphaBarT),
            coefficientXt: (1 - alphaBarPrev) * alpha.squareRoot() / (1 - alphaBarT)
        )
    }

    /// The steps of a K-step respaced sampler in the order they run (descending timesteps).
    public func samplerSteps(_ steps: Int) -> [SamplerStep] {
        let taus = respacedTimesteps(steps)
        return (0..<steps).reversed().map { i in
            step(from: taus[i], to: i > 0 ? taus[i - 1] : nil)
        }
    }
}

/// Float64 coefficients of one step of the deterministic published update:
/// x̂₀ = clamp(√(1/ᾱ_t)·x_t − √(1/ᾱ_t − 1)·ε̂, −1, 1);
/// x_prev = coefficientX0·x̂₀ + coefficientXt·x_t, with
/// coefficientX0 = β·√ᾱ_prev/(1−ᾱ_t), coefficientXt = (1−ᾱ_prev)·√α/(1−ᾱ_t), α = ᾱ_t/ᾱ_prev, β = 1 − α.
public struct SamplerStep: Sendable, Equatable {
    /// The original timestep τ the model receives.
    public let timestep: Int
    public let alphaBar: Double
    public let alphaBarPrevious: Double
    public let sqrtRecipAlphaBar: Double
    public let sqrtRecipAlphaBarMinusOne: Double
    public let coefficientX0: Double
    public let coefficientXt: Double
}
