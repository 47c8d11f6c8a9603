import Testing
@testable import FusionDiff

/// The trainer driving the real U-Net at a tiny size (the stand-in model covers the bookkeeping).
@Suite("Trainer with the U-Net")
struct TrainerNetworkTests {
    static func configuration(_ prediction: PredictionTarget) -> FusionDiffConfiguration {
        FusionDiffConfiguration(imageChannels: 1, width: 8, mults: [1, 2], resBlocks: 1, groups: 4,
                                timeChannels: 8, timeEmbedDim: 16, dropout: 0.1, prediction: prediction, focusFeatures: true)
    }

    static func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = 4
        o.crop = 16
        o.learningRate = 3e-3
        o.warmupSteps = 3
        o.seed = 5
        return o
    }

    @Test("few-step smoke run on a tiny U-Net: loss falls (x₀ objective)")
    func lossFalls() {
        let config = Self.configuration(.x0)
        let trainer = Trainer(model: UNet(configuration: config, seed: 1), configuration: config,
                              options: Self.options(), data: TrainerTests.data())
        var losses: [Double] = []
        for _ in 0..<40 { losses.append(trainer.trainStep().loss) }
        let first = losses.prefix(8).reduce(0, +) / 8, last = losses.suffix(8).reduce(0, +) / 8
        #expect(last < 0.6 * first, "mean loss \(first) → \(last)")
    }

    @Test("resume equals the uninterrupted run with the U-Net (dropout included), bit for bit")
    func resume() throws {
        let config = Self.configuration(.v)
        let options = Self.options()
        let straight = Trainer(model: UNet(configuration: config, seed: 1), configuration: config, options: options, data: TrainerTests.data())
        for _ in 0..<5 { straight.trainStep() }
        let first = Trainer(model: UNet(configuration: config, seed: 1), configuration: config, options: options, data: TrainerTests.data())
        for _ in 0..<3 { first.trainStep() }
        let bytes = first.state.checkpointData(configuration: config, options: options, schedule: first.schedule)
        let parsed = try TrainerState.parse(bytes, path: "c")
        let resumed = Trainer(model: UNet(configuration: config, seed: 77), configuration: config, options: parsed.options,
                              data: TrainerTests.data(), resume: parsed.state)
        for _ in 0..<2 { resumed.trainStep() }
        #expect(resumed.state == straight.state)
    }
}
