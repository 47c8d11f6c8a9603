import Imaging
import NN

/// The generator's pass of the selection engine (ARCHITECTURE.md, "Decide between sources, compose
/// once"): the model asked about each slice against the holders the evidence chose.
extension SliceSelectionEngine {
    /// The generator's pass (decisions `model` and `gated`): each slice in turn is put to the
    /// generator against the pixels' current holders — the slices the evidence pass chose, as
    /// measured — and the decision projection says per pixel which source the generated image is
    /// made of. Where the generator prefers slice k (everywhere for `model`; for `gated` only where
    /// the two evidences are within `decisiveSpread` standard deviations of each other), k becomes
    /// a candidate; each pixel moves to its candidate with the most evidence, or stays.
    ///
    /// Every pair is (the same holders, one slice), so no decision depends on the order the slices
    /// come in: reversing the stack mirrors the result exactly, and sequential and tree order agree.
    ///
    /// The generator sees each pair at 1/`modelScale` resolution (``decisionScale(width:height:)``):
    /// the holders are reduced once, each slice while it is prepared (in parallel with the others),
    /// and a full-resolution pixel reads the decision of the reduced pixel it lies in.
    func generatorPass(_ stack: any SliceSource, generator: any PairGenerator, state: State, holder: Image,
                       channel: Int?, range: StackRange, measure: FocusEvidence) throws -> [Int32] {
        let n = state.winner.count
        let width = holder.width, height = holder.height
        var candidate = state.winner
        var candidateEvidence = [Float](repeating: -1, count: n)
        let threshold = Float(selection.decisiveSpread)
        let gated = selection.decision == .gated
        let scale = decisionScale(width: width, height: height)
        let projector = decisionProjection
        let holderView = scale > 1 ? holder.boxDownsampled(scale) : holder
        let holderSource = DecisionSource(image: holderView, projector: projector)
        let viewWidth = holderView.width
        // The reduced column of each full-resolution column.
        let viewColumn = (0..<width).map { $0 / scale }
        try forEachSlice(stack, prepare: { _, slice in
            let plane = Self.decisionPlane(slice, channel: channel)
            let image = generatorImage(slice, plane: plane, channel: channel, range: range)
            let view = scale > 1 ? image.boxDownsampled(scale) : image
            return (evidence: measure.evidence(plane), source: DecisionSource(image: view, projector: projector))
        }) { k, _, prepared in
            let keepsHolder = try generatorDecision(generator, holderSource, prepared.source, projector: projector)
            let kk = Int32(k)
            keepsHolder.withUnsafeBufferPointer { keepsHolder in
            viewColumn.withUnsafeBufferPointer { viewColumn in
            prepared.evidence.values.withUnsafeBufferPointer { evidence in
            state.winner.withUnsafeBufferPointer { winner in
            state.evidence.values.withUnsafeBufferPointer { holderEvidence in
            state.noise.values.withUnsafeBufferPointer { noise in
            candidate.withUnsafeMutableBufferPointer { candidate in
            candidateEvidence.withUnsafeMutableBufferPointer { candidateEvidence in
                // Row bands in parallel: a pixel's candidate depends only on that pixel.
                Self.forEachPixelRange(height, pixelsPerItem: width) { rows in
                    for y in rows {
                        let viewRow = (y / scale) * viewWidth
                        for x in 0..<width where !keepsHolder[viewRow + viewColumn[x]] {
                            let i = y * width + x
                            guard winner[i] != kk else { continue }
                            let eh = holderEvidence[i], ek = evidence[i]
                            if gated {
                                let spread = measure.evidenceSpread(evidence: eh, noise: noise[i])
                                guard eh - ek <= threshold * spread else { continue }
                            }
                            if ek > candidateEvidence[i] {
                                candidateEvidence[i] = ek
                                candidate[i] = kk
                            }
                        }
                    }
                }
            } } } } } } } }
        }
        return candidate
    }

    /// The factor the generator's pairs are reduced by: `modelScale`, or 1 for an image smaller
    /// than two reduced pixels a side.
    func decisionScale(width: Int, height: Int) -> Int {
        let scale = selection.modelScale
        return scale > 1 && width >= 2 * scale && height >= 2 * scale ? scale : 1
    }

    /// The projection of the generator's decisions: the engine's, without the boundary band.
    var decisionProjection: Projection {
        var options = projection
        options.bandRadius = 0
        return Projection(options: options)
    }

    /// One source of the generator's pairs and its detail (``Projection/detail(_:)``), computed
    /// once: the holders' for every pair, each slice's while it is prepared.
    struct DecisionSource {
        let image: Image
        let detail: Image

        init(image: Image, projector: Projection) {
            self.image = image
            detail = projector.detail(image)
        }
    }

    /// The generator's decision for a pair in its space: the generated image projected onto the two
    /// sources (window and pixel fits on detail, thresholded, islands removed, no band) — per
    /// pixel of `a` and `b` as given (at the reduced scale in ``generatorPass``). The window fit
    /// and the pixel fit run side by side.
    func generatorDecision(_ generator: any PairGenerator, _ a: DecisionSource, _ b: DecisionSource,
                           projector: Projection) throws -> [Bool] {
        let pairwise = PairwiseEngine(generator: generator, projection: projection, order: order, tiling: tiling)
        let generated = try pairwise.generateTiled(a.image, b.image)
        let details = (g: projector.detail(generated), a: a.detail, b: b.detail)
        var fits = [Plane?](repeating: nil, count: 2)
        fits.withUnsafeMutableBufferPointer { fits in
            Compute.parallelTasks(2) { task, _ in
                fits[task] = task == 0 ? projector.fittedWeights(details: details)
                    : projector.pixelWeights(generated: generated, a: a.image, b: b.image, details: details)
            }
        }
        let weights = projector.decisionWeights(fitted: fits[0]!, pixel: fits[1]!, guide: a.image.luminance())
        return weights.values.map { $0 >= 0.5 }
    }
}

extension Image {
    /// Each `factor`×`factor` block averaged (partial blocks at the right and bottom edges too): a
    /// block's pixels are summed row by row, left to right, from 0, then divided by their count.
    func boxDownsampled(_ factor: Int) -> Image {
        let w = (width + factor - 1) / factor, h = (height + factor - 1) / factor
        var out = [Float](repeating: 0, count: w * h * channels)
        out.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { source in
                for c in 0..<channels {
                    for y in 0..<height {
                        let row = source.baseAddress! + c * planeSize + y * width
                        let sums = out.baseAddress! + c * w * h + (y / factor) * w
                        for bx in 0..<w {
                            let end = min(width, (bx + 1) * factor)
                            var s = sums[bx]
                            for x in (bx * factor)..<end { s += row[x] }
                            sums[bx] = s
                        }
                    }
                    for by in 0..<h {
                        let rows = Float(min(height, (by + 1) * factor) - by * factor)
                        for bx in 0..<w {
                            let count = rows * Float(min(width, (bx + 1) * factor) - bx * factor)
                            out[c * w * h + by * w + bx] /= count
                        }
                    }
                }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }
}
