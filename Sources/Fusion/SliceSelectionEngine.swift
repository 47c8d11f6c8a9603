import Foundation
import Imaging
import NN

/// N-slice fusion that decides between sources and composes once (ARCHITECTURE.md, "Decide between
/// sources, compose once"; issue 17).
///
/// The running state of the pairwise iteration is, per pixel, the slice that holds it, that
/// slice's focus evidence (``FocusEvidence``) and its measured pixel — never a blended image. A
/// first pass decides each pair (holder, next slice) by evidence. The generator's pass
/// (``generatorPass(_:generator:state:holder:channel:range:measure:)``) then puts each slice to the
/// pair generator against the holders' measured pixels — as `focusd train --textures` presents
/// pairs in training — and the decision projection (islands removed, no band) says per pixel which
/// source the generated image is made of: with `decision: model` the generator decides, with
/// `gated` only where the evidence is not decisive, with `evidence` it is not called. No decision
/// depends on the slices' order (reversal mirrors the result; sequential and tree order agree).
///
/// After all decisions, the slice-index map is median filtered and the output composed in one
/// pass: each slice's weight is its share of the decision map blended in a narrow edge-aware band
/// at region boundaries (as the two-source projection does) or, within `depthOfField` slices of the
/// chosen one, how well its evidence matches the chosen slice's within the evidence's noise
/// (`noiseTolerance`): slices that are as sharp as the chosen one within noise average the photon
/// noise down; every output pixel stays a convex blend of measured pixels of the slices. Depth is
/// the chosen slice refined by a parabola through its and its neighbours' evidence; confidence the
/// chosen slice's share of the blend.
///
/// Memory: a fixed number of slice-sized planes whatever the stack's depth (slices are decoded
/// again for the composition: three passes over the stack, five with a generator — its range pass
/// and its own pass).
public struct SliceSelectionEngine: StackFusionEngine {
    /// The pair generator (nil: evidence decides alone).
    public let generator: (any PairGenerator)?
    public let projection: ProjectionOptions
    public let order: PairOrder
    public let tiling: TileOptions
    public let selection: SelectionOptions

    public init(generator: (any PairGenerator)?, projection: ProjectionOptions = .init(), order: PairOrder = .sequential,
                tiling: TileOptions = .init(), selection: SelectionOptions = .init()) {
        self.generator = generator
        self.projection = projection
        self.order = order
        self.tiling = tiling
        self.selection = selection
    }

    /// The per-pixel state of a run of slices.
    struct State {
        /// Slice index holding each pixel.
        var winner: [Int32]
        /// That slice's focus evidence.
        var evidence: Plane
        /// Smallest local noise variance seen over the run's slices.
        var noise: Plane
        /// Sum of every slice's evidence over the run, and the run's slice count (their mean is the
        /// evidence a pixel shows out of focus: noise and defocused light).
        var evidenceSum: Plane
        var count: Int
        /// The same decisions by the fine evidence window (`fineWindow`; empty when off): the slice,
        /// its fine evidence, the run's sum of fine evidence, and that slice's coarse evidence.
        var fineWinner: [Int32] = []
        var fineEvidence = Plane(width: 0, height: 0)
        var fineSum = Plane(width: 0, height: 0)
        var fineCoarse = Plane(width: 0, height: 0)
        /// The winners' measured pixels in the generator's space ([−1, 1], generator channels);
        /// empty when no generator is called.
        var pixels: Image?
        var level: Int
    }

    var usesGenerator: Bool { generator != nil && selection.decision != .evidence }

    public func fuse(_ stack: any SliceSource) throws -> FusionResult {
        guard stack.count > 0 else { throw FusionError.emptyStack }
        try projection.validate()
        try selection.validate()
        if let generator { try PairwiseEngine(generator: generator, projection: projection, order: order, tiling: tiling).validateTiling() }
        let g = stack.geometry
        if case let .index(n) = selection.decisionChannel, n >= g.channels {
            throw FusionError.invalidOptions("decision channel \(n) does not exist: the stack has \(g.channels) channel(s)")
        }
        // The stack's range scales the generator's inputs and the guide of a pair's boundary band;
        // nothing else needs it, so its decoding pass runs only for those.
        let range = usesGenerator || (stack.count < 3 && projection.bandRadius > 0) ? try StackRange(measuring: stack) : nil
        let channel = try decisionChannel(stack)
        let measure = FocusEvidence(sigma: selection.evidenceSigma, window: selection.evidenceWindow)
        var state = try evidencePass(stack, channel: channel, range: usesGenerator ? range : nil, measure: measure)
        if usesGenerator, let generator, let holder = state.pixels, let range {
            state.winner = try generatorPass(stack, generator: generator, state: state, holder: holder,
                                             channel: channel, range: range, measure: measure)
        }
        if selection.fineWindow > 0 { Self.applyFineDecisions(&state, measure: measure, window: selection.fineWindow,
                                                              threshold: Float(selection.fineThreshold)) }
        var chosen = Plane(width: g.width, height: g.height, values: state.winner.map(Float.init))
        chosen = chosen.medianFiltered(radius: selection.medianRadius, levels: stack.count)
        if selection.surfaceRadius > 0 {
            chosen = Self.regularised(chosen, evidence: state.evidence, meanEvidence: state.evidenceSum, slices: state.count,
                                      measure: measure, radius: selection.surfaceRadius)
        }
        return try compose(stack, chosen: chosen, noise: state.noise, channel: channel, range: range, measure: measure)
    }

    /// The holders the generator pass puts each slice against: per pixel the slice the evidence
    /// pass chose (before the generator, median, surface fill and fine window), row-major. Training
    /// pairs are made from it so that the model sees in training exactly what it sees here.
    public func evidenceHolders(_ stack: any SliceSource) throws -> [Int32] {
        guard stack.count > 0 else { throw FusionError.emptyStack }
        var options = selection
        options.decision = .evidence
        options.fineWindow = 0
        let engine = SliceSelectionEngine(generator: nil, projection: projection, order: order, tiling: tiling, selection: options)
        let measure = FocusEvidence(sigma: options.evidenceSigma, window: options.evidenceWindow)
        return try engine.evidencePass(stack, channel: try engine.decisionChannel(stack), range: nil, measure: measure).winner
    }

    /// The evidence pass: every slice becomes a leaf state (its evidence, noise and — when the
    /// generator will be asked — its pixels in the generator's space, scaled by `range`), and the
    /// leaves are merged pairwise in `order`.
    func evidencePass(_ stack: any SliceSource, channel: Int?, range: StackRange?, measure: FocusEvidence) throws -> State {
        let g = stack.geometry
        func leaf(_ index: Int, _ slice: Image) -> State {
            let plane = Self.decisionPlane(slice, channel: channel)
            let squared = measure.squaredResponse(plane)
            let evidence = squared.boxMean(radius: measure.window / 2)
            var state = State(winner: [Int32](repeating: Int32(index), count: g.width * g.height),
                              evidence: evidence, noise: FocusEvidence.noiseVariance(plane), evidenceSum: evidence, count: 1,
                              pixels: range.map { generatorImage(slice, plane: plane, channel: channel, range: $0) },
                              level: 0)
            if selection.fineWindow > 0 {
                state.fineWinner = state.winner
                state.fineEvidence = squared.boxMean(radius: selection.fineWindow / 2)
                state.fineSum = state.fineEvidence
                state.fineCoarse = evidence
            }
            return state
        }
        switch order {
        case .sequential:
            var state: State?
            try forEachSlice(stack, prepare: leaf) { _, _, next in
                if state == nil { state = next } else { merge(into: &state!, next) }
            }
            return state!
        case .tree:
            var pending: [State] = []
            try forEachSlice(stack, prepare: leaf) { _, _, next in
                pending.append(next)
                while pending.count >= 2 && pending[pending.count - 1].level == pending[pending.count - 2].level {
                    let b = pending.removeLast()
                    merge(into: &pending[pending.count - 1], b)
                }
            }
            while pending.count >= 2 {
                let b = pending.removeLast()
                merge(into: &pending[pending.count - 1], b)
            }
            return pending[0]
        }
    }

    /// One pairwise step, in place: per pixel, `a`'s slice or `b`'s (`a` keeps ties). `a`'s planes
    /// are updated where they are (no copies), pixel ranges in parallel on the engine's threads.
    func merge(into a: inout State, _ b: State) {
        a.level = max(a.level, b.level) + 1
        a.count += b.count
        let n = a.winner.count
        var keepsA = [Bool](repeating: false, count: n)
        keepsA.withUnsafeMutableBufferPointer { keepsA in
        a.winner.withUnsafeMutableBufferPointer { winner in
        a.evidence.values.withUnsafeMutableBufferPointer { evidence in
        b.winner.withUnsafeBufferPointer { otherWinner in
        b.evidence.values.withUnsafeBufferPointer { otherEvidence in
            Self.forEachPixelRange(n) { range in
                for i in range {
                    keepsA[i] = evidence[i] >= otherEvidence[i]
                    if !keepsA[i] {
                        winner[i] = otherWinner[i]
                        evidence[i] = otherEvidence[i]
                    }
                }
            }
        } } } } }
        a.evidenceSum.values.withUnsafeMutableBufferPointer { sum in
        a.noise.values.withUnsafeMutableBufferPointer { noise in
        b.evidenceSum.values.withUnsafeBufferPointer { otherSum in
        b.noise.values.withUnsafeBufferPointer { otherNoise in
            Self.forEachPixelRange(n) { range in
                for i in range {
                    sum[i] = sum[i] + otherSum[i]
                    noise[i] = min(noise[i], otherNoise[i])
                }
            }
        } } } }
        if !a.fineWinner.isEmpty {
            a.fineSum.values.withUnsafeMutableBufferPointer { sum in
            a.fineWinner.withUnsafeMutableBufferPointer { winner in
            a.fineEvidence.values.withUnsafeMutableBufferPointer { evidence in
            a.fineCoarse.values.withUnsafeMutableBufferPointer { coarse in
                Self.forEachPixelRange(n) { range in
                    for i in range {
                        sum[i] = sum[i] + b.fineSum.values[i]
                        if b.fineEvidence.values[i] > evidence[i] {
                            winner[i] = b.fineWinner[i]
                            evidence[i] = b.fineEvidence.values[i]
                            coarse[i] = b.fineCoarse.values[i]
                        }
                    }
                }
            } } } }
        }
        if a.pixels != nil, let other = b.pixels {
            let plane = other.planeSize
            a.pixels!.pixels.withUnsafeMutableBufferPointer { pixels in
            other.pixels.withUnsafeBufferPointer { otherPixels in
            keepsA.withUnsafeBufferPointer { keepsA in
                for c in 0..<other.channels {
                    Self.forEachPixelRange(n) { range in
                        for i in range where !keepsA[i] { pixels[c * plane + i] = otherPixels[c * plane + i] }
                    }
                }
            } } }
        }
    }

    /// Where the chosen slice's evidence hardly rises above what the pixel shows out of focus
    /// (flat, untextured pixels), the slice index is not measured but guessed — the maximum over N
    /// slices of noise. There the index is taken from the surface that the well-measured pixels
    /// around define: an evidence-weighted mean of the index over a Gaussian-like window (three box
    /// passes of radius `radius`). A pixel's score is z = (E − Ē) / (Ē·√(2/M)): the chosen slice's
    /// evidence E above the mean Ē over all slices, in standard deviations of a box mean of M
    /// independent squared-noise samples; its weight is z² / (z² + z₀²) and it keeps its own decision
    /// when z ≥ z₀ = 3 + √(2 ln N) (well above the expected maximum of N noise draws).
    static func regularised(_ chosen: Plane, evidence: Plane, meanEvidence sum: Plane, slices: Int,
                            measure: FocusEvidence, radius: Int) -> Plane {
        let n = chosen.count
        let samples = Float(measure.window * measure.window) / measure.correlationArea
        let relative = (2 / samples).squareRoot()
        let z0 = 3 + (2 * logf(Float(max(slices, 2)))).squareRoot()
        var score = [Float](repeating: 0, count: n)
        var weight = Plane(width: chosen.width, height: chosen.height)
        var weighted = weight
        for i in 0..<n {
            let mean = sum.values[i] / Float(slices)
            let z = max(0, evidence.values[i] - mean) / max(mean * relative, 1e-30)
            score[i] = z
            let q = z * z / (z * z + z0 * z0)
            weight.values[i] = q
            weighted.values[i] = q * chosen.values[i]
        }
        // Coarser windows where the finer ones hold too few textured pixels (large flat regions).
        // Six independent chains of three box means (weight and weighted at three scales), in parallel.
        let radii = [radius, 4 * radius, 16 * radius]
        var smoothed = [Plane?](repeating: nil, count: 2 * radii.count)
        smoothed.withUnsafeMutableBufferPointer { smoothed in
            Compute.parallelTasks(smoothed.count) { task, _ in
                var p = task % 2 == 0 ? weight : weighted
                for _ in 0..<3 { p = p.boxMean(radius: radii[task / 2]) }
                smoothed[task] = p
            }
        }
        let scales = radii.indices.map { (weight: smoothed[2 * $0]!, weighted: smoothed[2 * $0 + 1]!) }
        var out = chosen
        let last = Float(slices - 1)
        for i in 0..<n where score[i] < z0 {
            // The finest scale with enough support, else the coarsest.
            var s = 0
            while s < scales.count - 1 && !(scales[s].weight.values[i] >= 0.02) { s += 1 }
            let weight = scales[s].weight.values[i]
            guard weight > 1e-6 else { continue }
            out.values[i] = min(last, max(0, (scales[s].weighted.values[i] / weight).rounded()))
        }
        return out
    }

    /// Where the fine window's evidence stands far above its mean over all slices (z ≥ `threshold`,
    /// in standard deviations of a box mean of squared noise), its decision replaces the coarse one:
    /// at a steep step of the specimen the coarse window straddles two heights, while bright detail
    /// decides even over a few pixels.
    static func applyFineDecisions(_ state: inout State, measure: FocusEvidence, window: Int, threshold: Float) {
        let samples = Float(window * window) / measure.correlationArea
        let relative = (2 / max(samples, 1e-3)).squareRoot()
        for i in 0..<state.winner.count where state.fineWinner[i] != state.winner[i] {
            let mean = state.fineSum.values[i] / Float(state.count)
            let z = (state.fineEvidence.values[i] - mean) / max(mean * relative, 1e-30)
            guard z >= threshold else { continue }
            state.winner[i] = state.fineWinner[i]
            state.evidence.values[i] = state.fineCoarse.values[i]
        }
    }

    /// The decision channel: nil for luminance, else a channel index.
    func decisionChannel(_ stack: any SliceSource) throws -> Int? {
        let g = stack.geometry
        switch selection.decisionChannel {
        case .luminance: return nil
        case let .index(n): return g.channels == 1 ? nil : n
        case .mostSignal:
            guard g.channels > 1 else { return nil }
            let middle = try checkedSlice(stack, stack.count / 2)
            let measure = FocusEvidence(sigma: selection.evidenceSigma, window: selection.evidenceWindow)
            var best = 0, bestScore = -Float.infinity
            for c in 0..<g.channels {
                let plane = middle.plane(c)
                let e = measure.evidence(plane).values, v = FocusEvidence.noiseVariance(plane).values
                let signal = e.reduce(0, +) / Float(e.count), noise = v.reduce(0, +) / Float(v.count)
                let score = signal / max(measure.noiseGain * noise, 1e-12)
                if score > bestScore { bestScore = score; best = c }
            }
            return best
        }
    }

    /// The plane focus is decided on, in stack units.
    static func decisionPlane(_ slice: Image, channel: Int?) -> Plane {
        if let channel { return slice.plane(channel) }
        return slice.luminance()
    }

    /// A slice as the generator sees it: [−1, 1] by the stack's range, in the generator's channels
    /// (the decision plane, replicated for a colour model, unless the slice already has the
    /// generator's channels and focus is decided on luminance).
    func generatorImage(_ slice: Image, plane: Plane, channel: Int?, range: StackRange) -> Image {
        let target = generator?.channels ?? 1
        if channel == nil && slice.channels == target { return range.normalised(slice) }
        let grey = range.normalised(Image(width: slice.width, height: slice.height, channels: 1, pixels: plane.values))
        if target == 1 { return grey }
        return Image(planes: [Image](repeating: grey, count: target))
    }
}
