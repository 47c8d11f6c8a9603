import Imaging

/// Pairwise, iterative N-slice fusion through a `PairGenerator` (ARCHITECTURE.md, "N slices").
///
/// Slices are normalised to [−1, 1] by the stack's own range (a first pass reads them one at a
/// time), combined pair by pair in `order`, projected back onto the sources (`projection`), and
/// restored to the stack's scale. A luminance generator on colour stacks works on BT.601 Y and the
/// projection weights blend every channel; a colour generator on grey stacks sees the channel
/// replicated. Depth (weighted slice index) and confidence (the largest cumulative fitted weight of
/// any slice) come from the same pass. Memory: a fixed number of slice-sized buffers for
/// `sequential`, about log₂ N partial results for `tree`.
public struct PairwiseEngine: StackFusionEngine {
    public let generator: any PairGenerator
    public let projection: ProjectionOptions
    public let order: PairOrder
    public let tiling: TileOptions

    public init(generator: any PairGenerator, projection: ProjectionOptions = .init(),
                order: PairOrder = .sequential, tiling: TileOptions = .init()) {
        self.generator = generator
        self.projection = projection
        self.order = order
        self.tiling = tiling
    }

    /// A fused run of slices in [−1, 1] with its running depth and confidence.
    struct Partial {
        var image: Image
        /// Weighted mean slice index of each pixel.
        var depth: Plane
        /// Largest cumulative fitted weight of any one slice.
        var confidence: Plane
        /// Tree level (number of merges below it).
        var level: Int
    }

    public func fuse(_ stack: any SliceSource) throws -> FusionResult {
        guard stack.count > 0 else { throw FusionError.emptyStack }
        try projection.validate()
        try validateTiling()
        let range = try StackRange(measuring: stack)
        let g = stack.geometry

        func leaf(_ index: Int) throws -> Partial {
            let image = range.normalised(try checkedSlice(stack, index))
            return Partial(image: image,
                           depth: Plane(width: g.width, height: g.height, repeating: Float(index)),
                           confidence: Plane(width: g.width, height: g.height, repeating: 1),
                           level: 0)
        }

        var result: Partial
        switch order {
        case .sequential:
            result = try leaf(0)
            for index in 1..<max(1, stack.count) {
                result = try merge(result, try leaf(index))
            }
        case .tree:
            var pending: [Partial] = []
            for index in 0..<stack.count {
                pending.append(try leaf(index))
                while pending.count >= 2 && pending[pending.count - 1].level == pending[pending.count - 2].level {
                    let b = pending.removeLast(), a = pending.removeLast()
                    pending.append(try merge(a, b))
                }
            }
            while pending.count >= 2 {
                let b = pending.removeLast(), a = pending.removeLast()
                pending.append(try merge(a, b))
            }
            result = pending[0]
        }
        return FusionResult(
            fused: range.restored(result.image),
            depth: Image(width: g.width, height: g.height, channels: 1, pixels: result.depth.values),
            confidence: Image(width: g.width, height: g.height, channels: 1, pixels: result.confidence.values))
    }

    /// Fuses two partial results (`a` plays S1, `b` S2).
    func merge(_ a: Partial, _ b: Partial) throws -> Partial {
        let pair = try fusePair(a.image, b.image)
        var depth = a.depth, confidence = a.confidence
        for i in 0..<depth.count {
            let w = pair.weights.values[i], f = pair.fitted.values[i]
            depth.values[i] = w * a.depth.values[i] + (1 - w) * b.depth.values[i]
            confidence.values[i] = max(f * a.confidence.values[i], (1 - f) * b.confidence.values[i])
        }
        return Partial(image: pair.fused, depth: depth, confidence: confidence, level: max(a.level, b.level) + 1)
    }

    /// One pair in [−1, 1] with the stack's channels: the fused pair, the weights of `a` in the
    /// output, and the fitted (continuous) weights.
    func fusePair(_ a: Image, _ b: Image) throws -> (fused: Image, weights: Plane, fitted: Plane) {
        let genA = toGeneratorChannels(a), genB = toGeneratorChannels(b)
        let generated = try generateTiled(genA, genB)
        let projector = Projection(options: projection)
        let details = projector.details(generated: generated, a: genA, b: genB)
        let fitted = projector.fittedWeights(details: details)
        var guide = genA.luminance()
        let guideB = genB.luminance()
        for i in 0..<guide.count { guide.values[i] = 0.5 * (guide.values[i] + guideB.values[i]) }

        let weights: Plane
        switch projection.mode {
        case .decision, .none:
            let pixel = projector.pixelWeights(generated: generated, a: genA, b: genB, details: details)
            weights = projector.decisionWeights(fitted: fitted, pixel: pixel, guide: guide)
        case .soft: weights = projector.softWeights(fitted: fitted, guide: guide)
        }
        var blend = a
        let n = a.planeSize
        for c in 0..<a.channels {
            for i in 0..<n {
                let w = weights.values[i]
                blend.pixels[c * n + i] = w * a.pixels[c * n + i] + (1 - w) * b.pixels[c * n + i]
            }
        }
        guard projection.mode == .none else { return (blend, weights, fitted) }

        // Raw generated image: the generator's own output, or its luminance carried onto the
        // weight-blended colours (chroma fused by the weights).
        if generated.channels == a.channels {
            var raw = generated
            for i in 0..<raw.pixels.count { raw.pixels[i] = min(1, max(-1, raw.pixels[i])) }
            return (raw, fitted, fitted)
        }
        let generatedGrey = generated.channels == 1 ? generated.plane(0) : generated.luminanceMean()
        let blendGrey = blend.luminance()
        var raw = blend
        for c in 0..<a.channels {
            for i in 0..<n {
                raw.pixels[c * n + i] = min(1, max(-1, blend.pixels[c * n + i] + generatedGrey.values[i] - blendGrey.values[i]))
            }
        }
        return (raw, fitted, fitted)
    }

    /// The stack's channels converted to the generator's: identity, luminance, or replication.
    func toGeneratorChannels(_ image: Image) -> Image {
        let target = generator.channels
        if image.channels == target { return image }
        let grey = image.luminance()
        let planes = [Image](repeating: Image(width: image.width, height: image.height, channels: 1, pixels: grey.values),
                             count: target)
        return Image(planes: planes)
    }
}

extension Image {
    /// The plain mean over channels (for replicated-grey generator outputs).
    func luminanceMean() -> Plane {
        var out = Plane(width: width, height: height)
        let inv = 1 / Float(channels)
        for c in 0..<channels { for i in 0..<planeSize { out.values[i] += pixels[c * planeSize + i] * inv } }
        return out
    }
}
