import Foundation
import NN
import SeededRandom
import Testing
@testable import FusionDiff

/// A per-pixel linear denoiser (a 1×1 convolution with a timestep-scaled bias): tiny, exact
/// gradients, enough to check the trainer's bookkeeping without the U-Net.
final class PixelLinearDenoiser: TrainableDenoiser {
    let inputChannels: Int, outputChannels: Int
    var weights: [Float]  // [out, in] then bias [out] then time gain [out]

    init(inputChannels: Int, outputChannels: Int, seed: UInt64) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        var rng = SplitMix64(seed: seed)
        weights = (0..<(outputChannels * (inputChannels + 2))).map { _ in Float(rng.uniform(-0.5, 0.5)) }
    }

    var parameterCount: Int { weights.count }
    var parameterLayout: [(name: String, shape: [Int])] {
        [("conv.weight", [outputChannels, inputChannels, 1, 1]), ("conv.bias", [outputChannels]), ("time.gain", [outputChannels])]
    }
    func readParameters() -> [Float] { weights }
    func writeParameters(_ values: [Float]) { weights = values }

    func predict(_ input: Tensor, timesteps: [Int]) -> Tensor {
        let (n, c, h, w) = input.nchw
        var out = Tensor(zeros: [n, outputChannels, h, w])
        let plane = h * w
        for b in 0..<n {
            let tt = Float(timesteps[b]) / 2000
            for o in 0..<outputChannels {
                let bias = weights[outputChannels * c + o] + tt * weights[outputChannels * c + outputChannels + o]
                for p in 0..<plane {
                    var s = bias
                    for i in 0..<c { s += weights[o * c + i] * input.values[(b * c + i) * plane + p] }
                    out.values[(b * outputChannels + o) * plane + p] = s
                }
            }
        }
        return out
    }

    func trainingPass(input: Tensor, timesteps: [Int], dropoutSeed: UInt64, outputGradient: (Tensor) -> Tensor) -> [Float] {
        let output = predict(input, timesteps: timesteps)
        let g = outputGradient(output)
        let (n, c, h, w) = input.nchw
        let plane = h * w
        var grads = [Float](repeating: 0, count: weights.count)
        for b in 0..<n {
            let tt = Float(timesteps[b]) / 2000
            for o in 0..<outputChannels {
                for p in 0..<plane {
                    let go = g.values[(b * outputChannels + o) * plane + p]
                    for i in 0..<c { grads[o * c + i] += go * input.values[(b * c + i) * plane + p] }
                    grads[outputChannels * c + o] += go
                    grads[outputChannels * c + outputChannels + o] += go * tt
                }
            }
        }
        return grads
    }
}

@Suite("Trainer")
struct TrainerTests {
    static func image(seed: UInt64, size: Int) -> TrainingImage {
        var rng = SplitMix64(seed: seed)
        let coarse = (0..<(size * size)).map { _ in Float(rng.uniform(-1, 1)) }
        let smooth = SyntheticPairGenerator.gaussianBlur(coarse, channels: 1, height: size, width: size, sigma: 0.7)
        let lo = smooth.min()!, hi = smooth.max()!
        return TrainingImage(channels: 1, height: size, width: size, pixels: smooth.map { 2 * ($0 - lo) / (hi - lo) - 1 })
    }

    static func data() -> TrainingData {
        let sharp = (0..<3).map { image(seed: UInt64($0), size: 24) }
        let triplets = sharp.map { gt -> TrainingTriplet in
            let blurred = SyntheticPairGenerator.gaussianBlur(gt.pixels, channels: 1, height: 24, width: 24, sigma: 2)
            var a = gt.pixels, b = blurred
            for y in 0..<24 { for x in 12..<24 { a[y * 24 + x] = blurred[y * 24 + x]; b[y * 24 + x] = gt.pixels[y * 24 + x] } }
            return TrainingTriplet(source1: TrainingImage(channels: 1, height: 24, width: 24, pixels: a),
                                   source2: TrainingImage(channels: 1, height: 24, width: 24, pixels: b), groundTruth: gt)
        }
        return TrainingData(triplets: triplets, sharpImages: sharp)
    }

    static func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = 4
        o.crop = 16
        o.learningRate = 0.02
        o.warmupSteps = 5
        o.seed = 11
        return o
    }

    static func configuration(_ prediction: PredictionTarget, focus: Bool = false) -> FusionDiffConfiguration {
        var c = FusionDiffConfiguration.small(width: 8)
        c.prediction = prediction
        c.focusFeatures = focus
        return c
    }

    /// x₀ is the objective a per-pixel linear map can learn (ε and v need the image content).
    @Test("loss falls over a short run (x₀ objective, focus features on)")
    func lossFalls() {
        let prediction = PredictionTarget.x0
        let config = Self.configuration(prediction, focus: true)
        let model = PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 1)
        let trainer = Trainer(model: model, configuration: config, options: Self.options(), data: Self.data())
        var losses: [Double] = []
        for _ in 0..<60 { losses.append(trainer.trainStep().loss) }
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        #expect(last < 0.7 * first, "\(prediction): mean loss \(first) → \(last)")
        #expect(trainer.step == 60)
    }

    @Test("resuming from a checkpoint equals the uninterrupted run, bit for bit")
    func resume() throws {
        let config = Self.configuration(.x0)
        let options = Self.options()
        let straight = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 2),
                               configuration: config, options: options, data: Self.data())
        for _ in 0..<12 { straight.trainStep() }

        let first = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 2),
                            configuration: config, options: options, data: Self.data())
        for _ in 0..<7 { first.trainStep() }
        let bytes = first.state.checkpointData(configuration: config, options: options, schedule: first.schedule)
        let parsed = try TrainerState.parse(bytes, path: "ckpt.safetensors")
        #expect(parsed.state == first.state)
        #expect(parsed.configuration == config)
        #expect(parsed.options == options)
        // A fresh model with different initial weights: everything must come from the checkpoint.
        let resumed = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 99),
                              configuration: config, options: parsed.options, data: Self.data(), resume: parsed.state)
        for _ in 0..<5 { resumed.trainStep() }
        #expect(resumed.state == straight.state)
        #expect(resumed.emaParameters == straight.emaParameters)
    }

    @Test("deterministic for a seed")
    func deterministic() {
        let config = Self.configuration(.v)
        func run(seed: UInt64) -> [Float] {
            var options = Self.options()
            options.seed = seed
            let t = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 3),
                            configuration: config, options: options, data: Self.data())
            for _ in 0..<4 { t.trainStep() }
            return t.currentParameters
        }
        #expect(run(seed: 1) == run(seed: 1))
        #expect(run(seed: 1) != run(seed: 2))
    }

    @Test("warm-up ramps the learning rate linearly, then holds it")
    func warmup() {
        let config = Self.configuration(.x0)
        let t = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 3),
                        configuration: config, options: Self.options(), data: Self.data())
        #expect(t.learningRate(atStep: 0) == 0.02 / 5)
        #expect(t.learningRate(atStep: 4) == 0.02)
        #expect(t.learningRate(atStep: 100) == 0.02)
    }

    @Test("batch: x_t mixes x₀ and noise per the schedule; target per objective; sources are the pair")
    func batchContents() {
        for prediction in [PredictionTarget.eps, .x0, .v] {
            let config = Self.configuration(prediction)
            var options = Self.options()
            options.batchSize = 3
            let t = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 3),
                            configuration: config, options: options, data: Self.data())
            let batch = t.makeBatch()
            #expect(batch.input.shape == [3, 3, 16, 16])
            #expect(batch.timesteps.allSatisfy { $0 >= 0 && $0 < 2000 })
            #expect(batch.input.values.allSatisfy { $0.isFinite })
            if prediction == .x0 {
                // x₀ target lies in [−1, 1] and x_t = √ᾱ·x₀ + √(1−ᾱ)·ε has the right scale.
                #expect(batch.target.allSatisfy { $0 >= -1 && $0 <= 1 })
            }
        }
    }

    @Test("batches vary: timesteps spread over 0..<T, sources swapped, crops and augmentations differ")
    func batchesVary() {
        let config = Self.configuration(.x0)
        var options = Self.options()
        options.batchSize = 8
        let t = Trainer(model: PixelLinearDenoiser(inputChannels: config.inputChannels, outputChannels: 1, seed: 3),
                        configuration: config, options: options, data: Self.data())
        var timesteps: [Int] = []
        var firstPixels = Set<Float>()
        for _ in 0..<16 {
            let batch = t.makeBatch()
            timesteps += batch.timesteps
            firstPixels.insert(batch.target[0])
        }
        // 128 uniform draws from 0..<2000: every quarter of the range is hit, and most values are distinct.
        for quarter in 0..<4 {
            #expect(timesteps.contains { $0 / 500 == quarter }, "no timestep in quarter \(quarter): \(timesteps.prefix(16))")
        }
        #expect(Set(timesteps).count > 100)
        #expect(firstPixels.count > 4, "the first target pixel never changes: crops and augmentations are not drawn")
    }

    @Test("augmentation: four quarter turns and two flips are identities; one turn moves corners")
    func augmentation() {
        let img: [Float] = [1, 2, 3, 4]  // [[1, 2], [3, 4]]
        #expect(Augmentation.apply(img, channels: 1, size: 2, rotations: 4, flip: false) == img)
        let once = Augmentation.apply(img, channels: 1, size: 2, rotations: 1, flip: false)
        #expect(once != img && Set(once) == Set(img))
        var four = img
        for _ in 0..<4 { four = Augmentation.apply(four, channels: 1, size: 2, rotations: 1, flip: false) }
        #expect(four == img)
        let flipped = Augmentation.apply(img, channels: 1, size: 2, rotations: 0, flip: true)
        #expect(flipped == [2, 1, 4, 3])
    }
}
