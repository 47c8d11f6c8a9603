import NN
import SeededRandom

/// One training batch: the model input [N, inputChannels, S, S], the target [N, C, S, S], timesteps.
struct TrainingBatch {
    var input: Tensor
    var target: [Float]
    var timesteps: [Int]
}

extension Trainer {
    /// Draws one batch (advancing the run's random state in a fixed order).
    func makeBatch() -> TrainingBatch {
        let size = options.crop, c = configuration.imageChannels, plane = size * size
        let item = c * plane
        let inputChannels = configuration.inputChannels
        var input = Tensor(zeros: [options.batchSize, inputChannels, size, size])
        var target = [Float](repeating: 0, count: options.batchSize * item)
        var timesteps: [Int] = []
        for n in 0..<options.batchSize {
            var (s1, s2, x0) = drawItem()
            let rotations = rng.index(below: 4)
            let flip = rng.index(below: 2) == 1
            s1 = Augmentation.apply(s1, channels: c, size: size, rotations: rotations, flip: flip)
            s2 = Augmentation.apply(s2, channels: c, size: size, rotations: rotations, flip: flip)
            x0 = Augmentation.apply(x0, channels: c, size: size, rotations: rotations, flip: flip)
            if rng.index(below: 2) == 1 { swap(&s1, &s2) }
            let t = rng.index(below: schedule.timesteps)
            timesteps.append(t)
            let noise = GaussianNoise.sample(count: item, using: &rng)
            let ab = schedule.alphaBar[t]
            let a = Float(ab.squareRoot()), b = Float((1 - ab).squareRoot())
            let base = n * inputChannels * plane
            for i in 0..<item {
                input.values[base + i] = s1[i]
                input.values[base + item + i] = s2[i]
                input.values[base + 2 * item + i] = a * x0[i] + b * noise[i]
                target[n * item + i] = switch configuration.prediction {
                case .eps: noise[i]
                case .x0: x0[i]
                case .v: a * noise[i] - b * x0[i]
                }
            }
            if configuration.focusFeatures {
                let features = FocusFeatures.compute(sources: s1 + s2, batch: 1, imageChannels: c, height: size, width: size)
                for i in 0..<(2 * plane) { input.values[base + 3 * item + i] = features[i] }
            }
        }
        return TrainingBatch(input: input, target: target, timesteps: timesteps)
    }

    /// (S1, S2, x₀) crops [C, S, S] from a triplet or a synthetic pair.
    private func drawItem() -> ([Float], [Float], [Float]) {
        let size = options.crop, c = configuration.imageChannels
        let useSynthetic: Bool
        if data.triplets.isEmpty {
            useSynthetic = true
        } else if data.sharpImages.isEmpty {
            useSynthetic = false
        } else {
            useSynthetic = rng.uniform() < options.syntheticFraction
        }
        if useSynthetic {
            let image = data.sharpImages[rng.index(below: data.sharpImages.count)]
            let x = rng.index(below: image.width - size + 1), y = rng.index(below: image.height - size + 1)
            let sharp = image.crop(x: x, y: y, size: size)
            let pair = synthetic.makePair(sharp: sharp, channels: c, height: size, width: size, using: &rng)
            return (pair.source1, pair.source2, pair.groundTruth)
        }
        let triplet = data.triplets[rng.index(below: data.triplets.count)]
        let g = triplet.groundTruth
        let x = rng.index(below: g.width - size + 1), y = rng.index(below: g.height - size + 1)
        return (triplet.source1.crop(x: x, y: y, size: size), triplet.source2.crop(x: x, y: y, size: size),
                g.crop(x: x, y: y, size: size))
    }
}
