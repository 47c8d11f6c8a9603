import Foundation
import Imaging

extension SliceSelectionEngine {
    /// Composes the output from the decided slice-index map `chosen` (two passes over the stack).
    /// `range` is given when a pair's boundary band needs its guide.
    func compose(_ stack: any SliceSource, chosen: Plane, noise: Plane, channel: Int?, range: StackRange?,
                 measure: FocusEvidence) throws -> FusionResult {
        let g = stack.geometry
        let n = g.width * g.height
        let winner = chosen.values.map { Int32($0) }

        // The edge-aware boundary band serves a pair of sources (two photographs either/or).
        // In a stack, neighbouring slices are blended by the noise blending below, and a
        // boundary between distant slices is a step of the specimen: blending across it would
        // mix in light far out of focus (measured: −0.5 dB at 3,000 photons on the dev set).
        let r = projection.bandRadius
        let bandRange = stack.count < 3 && r > 0 ? range : nil

        // Pass 1: the chosen slice's evidence and its neighbours' (for the depth parabola), and the
        // guide of the boundary band (the chosen pixels' luminance on the [−1, 1] scale).
        var chosenEvidence = Plane(width: g.width, height: g.height)
        var below = Plane(width: g.width, height: g.height, repeating: -1)
        var above = Plane(width: g.width, height: g.height, repeating: -1)
        var guide = Plane(width: g.width, height: g.height)
        try forEachSlice(stack, prepare: { _, slice in measure.evidence(Self.decisionPlane(slice, channel: channel)) }) { k, slice, e in
            let kk = Int32(k)
            if let bandRange {
                let luminance = slice.luminance()
                let span = bandRange.maximum - bandRange.minimum
                let toUnit: Float = span > 0 ? 2 / span : 0
                for i in 0..<n where winner[i] == kk { guide.values[i] = (luminance.values[i] - bandRange.minimum) * toUnit - 1 }
            }
            winner.withUnsafeBufferPointer { winner in
            e.values.withUnsafeBufferPointer { e in
            chosenEvidence.values.withUnsafeMutableBufferPointer { chosenEvidence in
            below.values.withUnsafeMutableBufferPointer { below in
            above.values.withUnsafeMutableBufferPointer { above in
                Self.forEachPixelRange(n) { range in
                    for i in range {
                        let w = winner[i]
                        if w == kk {
                            chosenEvidence[i] = e[i]
                        } else if w == kk + 1 {
                            below[i] = e[i]
                        } else if w == kk - 1 {
                            above[i] = e[i]
                        }
                    }
                }
            } } } } }
        }

        // Pass 2: weights and the blend.
        var sum = [Float](repeating: 0, count: n * g.channels)
        var total = [Float](repeating: 0, count: n)
        var chosenWeight = [Float](repeating: 0, count: n)
        var spread = [Float](repeating: 0, count: n)
        let tolerance = Float(selection.noiseTolerance)
        for i in 0..<n {
            spread[i] = max(tolerance * measure.evidenceSpread(evidence: chosenEvidence.values[i], noise: noise.values[i]), 1e-20)
        }
        // Two sources are either/or (a photographic pair is not sampled through a depth of field):
        // noise blending needs a stack of three slices or more.
        let dof = stack.count >= 3 ? Float(selection.depthOfField) : 0
        try forEachSlice(stack, prepare: { _, slice in dof > 0 ? measure.evidence(Self.decisionPlane(slice, channel: channel)) : nil }) { k, slice, evidence in
            let kk = Int32(k)
            // The boundary band's weights (a pair of sources only); elsewhere a pixel's own weight
            // is 1 where it holds slice k, else 0.
            var band: Plane?
            if bandRange != nil && winner.contains(kk) {
                var indicator = Plane(width: g.width, height: g.height)
                for i in 0..<n where winner[i] == kk { indicator.values[i] = 1 }
                var weight = indicator
                let smooth = indicator.guidedFiltered(guide: guide, radius: r, epsilon: Float(projection.bandEpsilon))
                let local = indicator.boxMean(radius: r)
                for i in 0..<n where local.values[i] > 0 && local.values[i] < 1 {
                    weight.values[i] = min(1, max(0, smooth.values[i]))
                }
                band = weight
            }
            let channels = g.channels
            let blended = evidence != nil
            let emptyPlane: [Float] = []
            winner.withUnsafeBufferPointer { winner in
            (band?.values ?? emptyPlane).withUnsafeBufferPointer { band in
            (evidence?.values ?? emptyPlane).withUnsafeBufferPointer { e in
            chosenEvidence.values.withUnsafeBufferPointer { chosenEvidence in
            spread.withUnsafeBufferPointer { spread in
            slice.pixels.withUnsafeBufferPointer { pixels in
            total.withUnsafeMutableBufferPointer { total in
            chosenWeight.withUnsafeMutableBufferPointer { chosenWeight in
            sum.withUnsafeMutableBufferPointer { sum in
                Self.forEachPixelRange(n) { range in
                    for i in range {
                        var weight: Float = band.isEmpty ? (winner[i] == kk ? 1 : 0) : band[i]
                        if blended && winner[i] != kk && abs(Float(k) - Float(winner[i])) <= dof {
                            let deficit = max(0, chosenEvidence[i] - e[i]) / spread[i]
                            let w = expf(-0.5 * deficit * deficit)
                            if w > weight { weight = w }
                        }
                        guard weight > 0 else { continue }
                        total[i] += weight
                        if winner[i] == kk { chosenWeight[i] = weight }
                        for c in 0..<channels { sum[c * n + i] += weight * pixels[c * n + i] }
                    }
                }
            } } } } } } } } }
        }
        var depth = [Float](repeating: 0, count: n)
        var confidence = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let t = max(total[i], 1e-20)
            for c in 0..<g.channels { sum[c * n + i] /= t }
            confidence[i] = min(1, chosenWeight[i] / t)
            // Parabola through (−1, below), (0, chosen), (+1, above) where both neighbours exist.
            var offset: Float = 0
            let e0 = chosenEvidence.values[i], em = below.values[i], ep = above.values[i]
            if em >= 0 && ep >= 0 {
                let curvature = em - 2 * e0 + ep
                if curvature < 0 { offset = min(0.5, max(-0.5, 0.5 * (em - ep) / curvature)) }
            }
            depth[i] = Float(winner[i]) + offset
        }
        return FusionResult(fused: Image(width: g.width, height: g.height, channels: g.channels, pixels: sum),
                            depth: Image(width: g.width, height: g.height, channels: 1, pixels: depth),
                            confidence: Image(width: g.width, height: g.height, channels: 1, pixels: confidence))
    }
}
