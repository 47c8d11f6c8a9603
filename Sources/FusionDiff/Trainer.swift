import Foundation
import NN
import SeededRandom

/// Settings of a training run (everything except the model's shape and the data).
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// Items per step.
    public var batchSize: Int = 8
    /// Side of the square random crops, pixels (a multiple of the U-Net's size multiple).
    public var crop: Int = 96
    /// Peak AdamW learning rate, reached after the warm-up and kept constant.
    public var learningRate: Float = 1e-3
    /// Linear warm-up length in steps.
    public var warmupSteps: Int = 200
    /// AdamW decoupled weight decay.
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clip (0 = off).
    public var gradientClip: Float = 1.0
    /// EMA decay of the weights (effective decay min(decay, (1+s)/(10+s)) at step s).
    public var emaDecay: Float = 0.995
    /// Share of items drawn as synthetic pairs when both triplets and sharp images exist.
    public var syntheticFraction: Double = 0.5
    /// Seed of every random choice of the run.
    public var seed: UInt64 = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case batchSize = "batch_size", crop, learningRate = "learning_rate", warmupSteps = "warmup_steps"
        case weightDecay = "weight_decay", gradientClip = "gradient_clip", emaDecay = "ema_decay"
        case syntheticFraction = "synthetic_fraction", seed
    }
}

/// Trains a FusionDiff denoiser: loss 128·MSE between the model output and its target (ε, x₀ or v
/// per `configuration.prediction`) at uniformly drawn timesteps; AdamW with linear warm-up,
/// global-norm gradient clipping and an EMA of the weights; random crops, flips, 90° rotations and
/// source swaps; labelled triplets mixed with synthetic pairs. Pure compute: the caller times the
/// steps, prints progress and writes checkpoints (`state`, exactly resumable).
///
/// Determinism: every random choice comes from one `SplitMix64` whose state is in the checkpoint,
/// drawn in a fixed order per item (source: triplet or synthetic, image index, crop x, crop y,
/// [synthetic pair], rotations, flip, swap, timestep, noise), then one dropout seed per step.
public final class Trainer {
    public let model: any TrainableDenoiser
    public let configuration: FusionDiffConfiguration
    public let options: TrainingOptions
    public let schedule: NoiseSchedule
    let data: TrainingData
    let synthetic = SyntheticPairGenerator()
    let optimizer: AdamW
    var rng: SplitMix64
    public private(set) var step = 0
    var parameters: [Float]
    /// The exponential moving average of the weights (what a model file ships).
    public private(set) var emaParameters: [Float]

    /// A trainer starting from the model's current weights, or from `resume` (a checkpoint).
    public init(model: any TrainableDenoiser, configuration: FusionDiffConfiguration, options: TrainingOptions,
                data: TrainingData, schedule: NoiseSchedule = NoiseSchedule(), resume: TrainerState? = nil) {
        precondition(!data.isEmpty, "training needs triplets or sharp images")
        precondition(options.crop % configuration.sizeMultiple == 0, "crop must be a multiple of \(configuration.sizeMultiple)")
        self.model = model
        self.configuration = configuration
        self.options = options
        self.schedule = schedule
        self.data = data
        optimizer = AdamW(parameterCount: model.parameterCount, learningRate: options.learningRate,
                          weightDecay: options.weightDecay)
        if let resume {
            precondition(resume.parameters.count == model.parameterCount, "checkpoint does not match the model")
            step = resume.step
            parameters = resume.parameters
            emaParameters = resume.emaParameters
            rng = SplitMix64(seed: 0)
            rng.state = resume.randomState
            optimizer.restore(step: resume.optimizerStep, firstMoment: resume.firstMoment, secondMoment: resume.secondMoment)
            model.writeParameters(parameters)
        } else {
            parameters = model.readParameters()
            emaParameters = parameters
            rng = SplitMix64(seed: options.seed)
        }
    }

    /// Everything needed to continue exactly where this run stands.
    public var state: TrainerState {
        TrainerState(step: step, parameters: parameters, emaParameters: emaParameters,
                     firstMoment: optimizer.firstMoment, secondMoment: optimizer.secondMoment,
                     optimizerStep: optimizer.step, randomState: rng.state)
    }

    /// The learning rate of step `s` (0-based): linear warm-up, then constant.
    public func learningRate(atStep s: Int) -> Float {
        guard options.warmupSteps > 0, s < options.warmupSteps else { return options.learningRate }
        return options.learningRate * Float(s + 1) / Float(options.warmupSteps)
    }

    /// Runs one optimisation step; returns the batch loss (128·MSE) and the gradient norm before clipping.
    @discardableResult
    public func trainStep() -> (loss: Double, gradientNorm: Double) {
        let batch = makeBatch()
        let dropoutSeed = rng.next()
        model.writeParameters(parameters)
        var loss = 0.0
        let count = batch.target.count
        var gradients = model.trainingPass(input: batch.input, timesteps: batch.timesteps, dropoutSeed: dropoutSeed) { output in
            precondition(output.count == count, "model output \(output.shape) does not match the target")
            var grad = Tensor(zeros: output.shape)
            var sum = 0.0
            let scale = Float(2 * 128) / Float(count)
            for i in 0..<count {
                let d = output.values[i] - batch.target[i]
                sum += Double(d) * Double(d)
                grad.values[i] = scale * d
            }
            loss = 128 * sum / Double(count)
            return grad
        }
        var norm = 0.0
        for g in gradients { norm += Double(g) * Double(g) }
        norm = norm.squareRoot()
        if options.gradientClip > 0, norm > Double(options.gradientClip) {
            let factor = Float(Double(options.gradientClip) / (norm + 1e-6))
            for i in 0..<gradients.count { gradients[i] *= factor }
        }
        optimizer.learningRate = learningRate(atStep: step)
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                optimizer.update(parameters: p.baseAddress!, gradients: g.baseAddress!, count: p.count)
            }
        }
        let decay = min(options.emaDecay, Float(1 + step) / Float(10 + step))
        for i in 0..<parameters.count { emaParameters[i] = decay * emaParameters[i] + (1 - decay) * parameters[i] }
        step += 1
        return (loss, norm)
    }

    /// The current (non-averaged) parameters.
    public var currentParameters: [Float] { parameters }
}
