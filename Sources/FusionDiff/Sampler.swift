import Foundation

/// The deterministic FusionDiff sampler (the published update, no noise term) over the full
/// schedule or a respaced subsequence of K steps (ARCHITECTURE.md, "Respacing").
///
/// Layouts are NCHW float32, flattened: `sources` is [N, 2·C, H, W] = [S1, S2] per item,
/// `features` (optional) is [N, E, H, W] (the focus-feature channels), x_t is [N, C, H, W],
/// and the model receives [N, 2·C + C + E, H, W] = [S1, S2, x_t, features] with the original
/// timestep τ. Each step derives x̂₀ from the model's output according to `prediction`, clamps it
/// to [−1, 1] as published, and moves to the previous visited timestep with the posterior mean.
public struct DeterministicSampler: Sendable {
    /// A model: `input` [N, inputChannels, H, W] with `shape` = [N, inputChannels, H, W] and
    /// timestep τ (the same for every item) → its prediction [N, C, H, W].
    public typealias Model = (_ input: [Float], _ shape: [Int], _ timestep: Int) throws -> [Float]

    public let schedule: NoiseSchedule
    /// Number of model evaluations K (1…T).
    public let steps: Int
    /// What the model predicts (ε as published, x₀ or v).
    public let prediction: PredictionTarget

    public init(schedule: NoiseSchedule = NoiseSchedule(), steps: Int, prediction: PredictionTarget) {
        precondition(steps >= 1 && steps <= schedule.timesteps, "steps must lie in 1…\(schedule.timesteps), got \(steps)")
        self.schedule = schedule
        self.steps = steps
        self.prediction = prediction
    }

    /// The step coefficients in the order they run (descending timesteps).
    public var plannedSteps: [SamplerStep] { schedule.samplerSteps(steps) }

    /// Runs the sampler from `initialNoise` (x_T, [N, C, H, W]; e.g. `GaussianNoise.sample`).
    ///
    /// - Parameters:
    ///   - batch, channels, height, width: N, C (image channels), H, W.
    ///   - observe: called after each step with the step and the new state x_prev (for tests and progress).
    /// - Returns: x₀ [N, C, H, W], in [−1, 1].
    /// - Throws: whatever `model` throws.
    public func sample(
        sources: [Float], features: [Float]? = nil,
        batch: Int, channels: Int, height: Int, width: Int,
        initialNoise: [Float],
        model: Model,
        observe: ((SamplerStep, [Float]) -> Void)? = nil
    ) throws -> [Float] {
        let plane = height * width
        let itemSize = channels * plane
        precondition(initialNoise.count == batch * itemSize, "x_T must be [N, C, H, W]")
        precondition(sources.count == 2 * batch * itemSize, "sources must be [N, 2·C, H, W]")
        let featureChannels = (features?.count ?? 0) / max(1, batch * plane)
        if let features { precondition(features.count == batch * featureChannels * plane, "features must be [N, E, H, W]") }
        let inputChannels = 3 * channels + featureChannels
        let inputItem = inputChannels * plane
        var input = [Float](repeating: 0, count: batch * inputItem)
        // Conditioning channels never change: place them once; only x_t is rewritten per step.
        for n in 0..<batch {
            let base = n * inputItem
            for i in 0..<(2 * itemSize) { input[base + i] = sources[n * 2 * itemSize + i] }
            if let features {
                let fBase = n * featureChannels * plane
                for i in 0..<(featureChannels * plane) { input[base + 3 * itemSize + i] = features[fBase + i] }
            }
        }
        var x = initialNoise
        let shape = [batch, inputChannels, height, width]
        for step in plannedSteps {
            for n in 0..<batch {
                let dst = n * inputItem + 2 * itemSize
                for i in 0..<itemSize { input[dst + i] = x[n * itemSize + i] }
            }
            let output = try model(input, shape, step.timestep)
            precondition(output.count == x.count, "the model must return [N, C, H, W]")
            x = Self.update(x, modelOutput: output, step: step, prediction: prediction)
            observe?(step, x)
        }
        return x
    }

    /// One step: x̂₀ from the model output (clamped to [−1, 1]), then the posterior mean.
    public static func update(_ x: [Float], modelOutput: [Float], step: SamplerStep, prediction: PredictionTarget) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let x0 = predictedX0(xt: Double(x[i]), output: Double(modelOutput[i]), step: step, prediction: prediction)
            out[i] = Float(step.coefficientX0 * x0 + step.coefficientXt * Double(x[i]))
        }
        return out
    }

    /// x̂₀ from one model output value, clamped to [−1, 1]:
    /// ε: √(1/ᾱ)·x_t − √(1/ᾱ − 1)·ε̂; x₀: the output; v (v = √ᾱ·ε − √(1−ᾱ)·x₀): √ᾱ·x_t − √(1−ᾱ)·v̂.
    @inline(__always)
    public static func predictedX0(xt: Double, output: Double, step: SamplerStep, prediction: PredictionTarget) -> Double {
        let x0: Double
        switch prediction {
        case .eps:
            x0 = step.sqrtRecipAlphaBar * xt - step.sqrtRecipAlphaBarMinusOne * output
        case .x0:
            x0 = output
        case .v:
            x0 = step.alphaBar.squareRoot() * xt - (1 - step.alphaBar).squareRoot() * output
        }
        return min(max(x0, -1), 1)
    }
}
