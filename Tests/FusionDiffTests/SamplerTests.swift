import Foundation
import SeededRandom
import Testing
@testable import FusionDiff

@Suite("Deterministic sampler")
struct SamplerTests {
    let schedule = NoiseSchedule()

    /// A cheap, nonlinear stand-in for a noise predictor: depends on x_t, both sources and t.
    static func fakeModel(channels: Int, plane: Int) -> DeterministicSampler.Model {
        { input, shape, t in
            let n = shape[0], cin = shape[1]
            var out = [Float](repeating: 0, count: n * channels * plane)
            for b in 0..<n {
                for c in 0..<channels {
                    for p in 0..<plane {
                        let s1 = input[b * cin * plane + c * plane + p]
                        let s2 = input[b * cin * plane + (channels + c) * plane + p]
                        let xt = input[b * cin * plane + (2 * channels + c) * plane + p]
                        out[b * channels * plane + c * plane + p] =
                            0.6 * xt + 0.2 * s1 - 0.3 * s2 + 0.05 * Float(sin(Double(t) * 0.01 + Double(p)))
                    }
                }
            }
            return out
        }
    }

    @Test("K = 2000 equals the published update step by step")
    func fullSamplerMatchesPublished() throws {
        let (n, c, h, w) = (2, 1, 2, 3)
        let itemSize = c * h * w
        let count = n * itemSize
        let sources = (0..<(2 * count)).map { Float(sin(Double($0) * 1.7)) }
        let xT = GaussianNoise.sample(count: count, seed: 7)
        let model = Self.fakeModel(channels: c, plane: h * w)
        // Reference: the published loop (ARCHITECTURE.md, "Noise schedule and sampling"), written out independently from β_t.
        var reference = xT.map(Double.init)
        var referenceStates: [[Double]] = []
        for t in stride(from: 1999, through: 0, by: -1) {
            var input = [Float]()
            for b in 0..<n {
                let sourceStart = b * 2 * itemSize
                input += sources[sourceStart..<(sourceStart + 2 * itemSize)]
                let stateStart = b * itemSize
                input += reference[stateStart..<(stateStart + itemSize)].map { Float($0) }
            }
            let eps = try model(input, [n, 3 * c, h, w], t)
            let ab = schedule.alphaBar[t]
            let abPrev: Double = t > 0 ? schedule.alphaBar[t - 1] : 1
            let beta = schedule.betas[t]
            for i in 0..<count {
                let xt = Double(Float(reference[i]))
                let raw: Double = (1 / ab).squareRoot() * xt - (1 / ab - 1).squareRoot() * Double(eps[i])
                let x0: Double = min(max(raw, -1), 1)
                let cx0: Double = beta * abPrev.squareRoot() / (1 - ab)
                let cxt: Double = (1 - abPrev) * (1 - beta).squareRoot() / (1 - ab)
                reference[i] = cx0 * x0 + cxt * xt
            }
            referenceStates.append(reference)
        }
        var states: [[Float]] = []
        let sampler = DeterministicSampler(schedule: schedule, steps: 2000, prediction: .eps)
        let result = try sampler.sample(sources: sources, batch: n, channels: c, height: h, width: w,
                                        initialNoise: xT, model: model, observe: { _, x in states.append(x) })
        #expect(states.count == 2000)
        var worst = 0.0
        for (ours, ref) in zip(states, referenceStates) {
            for i in 0..<count { worst = max(worst, abs(Double(ours[i]) - ref[i])) }
        }
        #expect(worst < 1e-5, "largest step-wise difference \(worst)")
        #expect(result == states.last!)
    }

    @Test("hand-computed two-step respaced example (K = 2: τ = 999, 1999)")
    func twoStepExample() throws {
        // ε-model returning 0.1 everywhere, x_T = 0.3 (one pixel).
        // Step t = 1999 → 999: ᾱ_t = 6.071920953835336e-10, ᾱ_prev = 0.49384359044063836.
        //   x̂₀ = clamp(0.3/√ᾱ_t − √(1/ᾱ_t − 1)·0.1) = clamp(≈ 8116) = 1
        //   α = ᾱ_t/ᾱ_prev, β = 1 − α; x = β·√ᾱ_prev/(1−ᾱ_t)·1 + (1−ᾱ_prev)·√α/(1−ᾱ_t)·0.3
        let abT = 6.071920953835336e-10, abPrev = 0.49384359044063836
        let alpha = abT / abPrev
        let x999 = (1 - alpha) * abPrev.squareRoot() / (1 - abT) + (1 - abPrev) * alpha.squareRoot() / (1 - abT) * 0.3
        // Step t = 999 → end (ᾱ_prev = 1): x = x̂₀ = x999/√ᾱ − √(1/ᾱ − 1)·0.1
        let x0 = x999 / abPrev.squareRoot() - (1 / abPrev - 1).squareRoot() * 0.1
        #expect(abs(x999 - 0.70274538) < 1e-7)
        #expect(abs(x0 - 0.89876862) < 1e-7)

        let sampler = DeterministicSampler(schedule: schedule, steps: 2, prediction: .eps)
        var states: [Float] = []
        var timesteps: [Int] = []
        let result = try sampler.sample(
            sources: [0, 0], batch: 1, channels: 1, height: 1, width: 1, initialNoise: [0.3],
            model: { _, _, t in timesteps.append(t); return [0.1] },
            observe: { _, x in states.append(x[0]) })
        #expect(timesteps == [1999, 999])
        #expect(abs(Double(states[0]) - x999) < 1e-6)
        #expect(abs(Double(result[0]) - x0) < 1e-6)
    }

    /// An oracle for a known x₀: returns exactly the model's target at the current x_t.
    static func oracle(x0: [Float], target: PredictionTarget, schedule: NoiseSchedule) -> DeterministicSampler.Model {
        { input, shape, t in
            let n = shape[0], cin = shape[1], plane = shape[2] * shape[3]
            let ab = schedule.alphaBar[t]
            var out = [Float](repeating: 0, count: x0.count)
            for b in 0..<n {
                for p in 0..<plane {
                    let xt = Double(input[b * cin * plane + 2 * plane + p])
                    let truth = Double(x0[b * plane + p])
                    let eps = (xt - ab.squareRoot() * truth) / (1 - ab).squareRoot()
                    let value: Double = switch target {
                    case .eps: eps
                    case .x0: truth
                    case .v: ab.squareRoot() * eps - (1 - ab).squareRoot() * truth
                    }
                    out[b * plane + p] = Float(value)
                }
            }
            return out
        }
    }

    @Test("an oracle model for each target returns x₀ for every K",
          arguments: [PredictionTarget.eps, .x0, .v], [1, 2, 3, 4, 16, 50, 2000])
    func oracleReturnsX0(target: PredictionTarget, k: Int) throws {
        let (n, h, w) = (2, 4, 4)
        let count = n * h * w
        let x0 = (0..<count).map { Float(0.95 * sin(Double($0) * 0.9)) }
        let sources = [Float](repeating: 0, count: 2 * count)
        let sampler = DeterministicSampler(schedule: schedule, steps: k, prediction: target)
        let result = try sampler.sample(sources: sources, batch: n, channels: 1, height: h, width: w,
                                        initialNoise: GaussianNoise.sample(count: count, seed: 3),
                                        model: Self.oracle(x0: x0, target: target, schedule: schedule))
        // ε at t = 1999 is amplified by 1/√ᾱ ≈ 4·10⁴, so its float32 rounding shows at K = 1.
        let tolerance: Float = target == .eps ? 5e-3 : 1e-5
        let worst = zip(result, x0).map { abs($0 - $1) }.max()!
        #expect(worst <= tolerance, "K=\(k) \(target): largest error \(worst)")
    }

    @Test("x̂₀ is clamped to [−1, 1] for every target")
    func clamp() {
        let step = schedule.step(from: 1999, to: 999)
        for target in [PredictionTarget.eps, .x0, .v] {
            for output in [-1e6, -3.0, 3.0, 1e6] {
                let x0 = DeterministicSampler.predictedX0(xt: 0.5, output: output, step: step, prediction: target)
                #expect(x0 >= -1 && x0 <= 1)
            }
        }
    }

    @Test("focus-feature channels reach the model after x_t")
    func featuresPlacement() throws {
        let sampler = DeterministicSampler(schedule: schedule, steps: 1, prediction: .x0)
        var seen: [Float] = []
        var seenShape: [Int] = []
        _ = try sampler.sample(sources: [1, 2], features: [4, 5], batch: 1, channels: 1, height: 1, width: 1,
                               initialNoise: [3], model: { input, shape, _ in seen = input; seenShape = shape; return [0] })
        #expect(seen == [1, 2, 3, 4, 5])
        #expect(seenShape == [1, 5, 1, 1])
    }
}

@Suite("Deterministic noise")
struct GaussianNoiseTests {
    @Test("SplitMix64 reference output and reproducibility")
    func splitMix() {
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)  // the published SplitMix64 test vector
        #expect(GaussianNoise.sample(count: 5, seed: 42) == GaussianNoise.sample(count: 5, seed: 42))
        #expect(GaussianNoise.sample(count: 5, seed: 42) != GaussianNoise.sample(count: 5, seed: 43))
    }

    @Test("Box–Muller samples are standard normal")
    func moments() {
        let x = GaussianNoise.sample(count: 200_001, seed: 1)
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
        #expect(x.allSatisfy { $0.isFinite })
    }
}
