import Foundation

/// Sums over the reference pixels that land inside the slice under a warp: the moments for the
/// correlation and the photometric fit, and the Gauss–Newton right-hand side pieces.
struct MatchSums {
    var count = 0.0
    var sumI = 0.0, sumT = 0.0, sumII = 0.0, sumTT = 0.0, sumIT = 0.0
    /// Σ SD·I, Σ SD and Σ SD·T over valid pixels (6 slots; the first P are used).
    var sdI = [Double](repeating: 0, count: 6)
    var sd = [Double](repeating: 0, count: 6)
    var sdT = [Double](repeating: 0, count: 6)
    /// Σ SD·SDᵀ over interior pixels that fall outside the slice (6×6, first P×P used).
    var invalidHessian = [Double](repeating: 0, count: 36)

    mutating func add(_ o: MatchSums) {
        count += o.count
        sumI += o.sumI; sumT += o.sumT; sumII += o.sumII; sumTT += o.sumTT; sumIT += o.sumIT
        for k in 0..<6 { sdI[k] += o.sdI[k]; sd[k] += o.sd[k]; sdT[k] += o.sdT[k] }
        for k in 0..<36 { invalidHessian[k] += o.invalidHessian[k] }
    }

    var meanI: Double { sumI / count }
    var meanT: Double { sumT / count }
    var varianceI: Double { max(sumII / count - meanI * meanI, 0) }
    var varianceT: Double { max(sumTT / count - meanT * meanT, 0) }
    var covariance: Double { sumIT / count - meanI * meanT }
    /// The enhanced correlation coefficient (zero-mean normalised cross-correlation).
    var correlation: Double {
        let d = (varianceI * varianceT).squareRoot()
        return d > 0 ? covariance / d : 0
    }
}

/// Outcome of fitting one pyramid level.
struct LevelFit {
    /// Reference (centred, this level) → slice (centred, this level).
    var warp: Affine
    var score: Double
    var validFraction: Double
    var iterations: Int
    /// Why the fit failed, if it did.
    var failure: String?
}

/// Inverse-compositional Gauss–Newton maximisation of the enhanced correlation coefficient
/// (Evangelidis & Psarakis 2008) between a reference level and a slice level.
///
/// Each iteration warps the slice onto the reference grid (bicubic), fits the photometric map
/// `T ≈ g·I + o` by least squares (minimising Σ(T − g·I − o)² over g, o and the warp is exactly
/// maximising the correlation coefficient, so gain, offset and contrast lost to defocus do not
/// bias the warp), and solves for the warp increment with the reference's precomputed Hessian,
/// minus the rows of pixels that fall outside the slice.
enum CorrelationFit {
    /// Fraction of the reference's interior that must land inside the slice.
    static let minimumOverlap = 0.25

    static func sums(template: TemplateLevel, slice: Plane, warp m: Affine) -> MatchSums {
        let w = template.image.width, h = template.image.height
        guard w >= 3 && h >= 3 else { return MatchSums() }
        let model = template.model
        let ox = template.originX, oy = template.originY
        let maxX = Double(w - 1), maxY = Double(h - 1)
        let rows = h - 2
        let chunks = Parallel.chunkCount(rows: rows, rowCost: 24 * w)
        var partials = [MatchSums](repeating: MatchSums(), count: chunks)
        template.image.data.withUnsafeBufferPointer { tBuffer in
        template.gradientX.withUnsafeBufferPointer { gxBuffer in
        template.gradientY.withUnsafeBufferPointer { gyBuffer in
        slice.data.withUnsafeBufferPointer { iBuffer in
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            let t = SharedReadPointer(base: tBuffer.baseAddress!), gxs = SharedReadPointer(base: gxBuffer.baseAddress!)
            let gys = SharedReadPointer(base: gyBuffer.baseAddress!), img = SharedReadPointer(base: iBuffer.baseAddress!)
            let out = SharedPointer(base: partialBuffer.baseAddress!)
            Parallel.run(chunks: chunks) { chunk in
                var s = MatchSums()
                var sd = [Double](repeating: 0, count: 6)
                var n = 0.0, sI = 0.0, sT = 0.0, sII = 0.0, sTT = 0.0, sIT = 0.0
                var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0, a4 = 0.0, a5 = 0.0   // Σ SD·I
                var b0 = 0.0, b1 = 0.0, b2 = 0.0, b3 = 0.0, b4 = 0.0, b5 = 0.0   // Σ SD
                var c0 = 0.0, c1 = 0.0, c2 = 0.0, c3 = 0.0, c4 = 0.0, c5 = 0.0   // Σ SD·T
                let chunkRows = Parallel.range(chunk: chunk, of: chunks, total: rows)
                for y in (chunkRows.lowerBound + 1)..<(chunkRows.upperBound + 1) {
                    let vy = Double(y) - oy
                    var vx = 1 - ox
                    var sx = m.a * vx + m.b * vy + m.tx + ox
                    var sy = m.c * vx + m.d * vy + m.ty + oy
                    for x in 1..<(w - 1) {
                        let i = y * w + x
                        let gx = Double(gxs.base[i]), gy = Double(gys.base[i])
                        let d0: Double, d1: Double, d2: Double, d3: Double, d4: Double, d5: Double
                        switch model {
                        case .translation: d0 = gx; d1 = gy; d2 = 0; d3 = 0; d4 = 0; d5 = 0
                        case .similarity: d0 = gx * vx + gy * vy; d1 = gy * vx - gx * vy; d2 = gx; d3 = gy; d4 = 0; d5 = 0
                        case .affine: d0 = gx * vx; d1 = gx * vy; d2 = gy * vx; d3 = gy * vy; d4 = gx; d5 = gy
                        case .none: d0 = 0; d1 = 0; d2 = 0; d3 = 0; d4 = 0; d5 = 0
                        }
                        if sx >= 0 && sx <= maxX && sy >= 0 && sy <= maxY {
                            let iv = Double(sampleBicubic(img.base, width: w, height: h, x: sx, y: sy))
                            let tv = Double(t.base[i])
                            n += 1; sI += iv; sT += tv; sII += iv * iv; sTT += tv * tv; sIT += iv * tv
                            a0 += d0 * iv; a1 += d1 * iv; a2 += d2 * iv; a3 += d3 * iv; a4 += d4 * iv; a5 += d5 * iv
                            b0 += d0; b1 += d1; b2 += d2; b3 += d3; b4 += d4; b5 += d5
                            c0 += d0 * tv; c1 += d1 * tv; c2 += d2 * tv; c3 += d3 * tv; c4 += d4 * tv; c5 += d5 * tv
                        } else {
                            sd[0] = d0; sd[1] = d1; sd[2] = d2; sd[3] = d3; sd[4] = d4; sd[5] = d5
                            for r in 0..<6 { for c in 0..<6 { s.invalidHessian[r * 6 + c] += sd[r] * sd[c] } }
                        }
                        vx += 1; sx += m.a; sy += m.c
                    }
                }
                s.count = n; s.sumI = sI; s.sumT = sT; s.sumII = sII; s.sumTT = sTT; s.sumIT = sIT
                s.sdI = [a0, a1, a2, a3, a4, a5]
                s.sd = [b0, b1, b2, b3, b4, b5]
                s.sdT = [c0, c1, c2, c3, c4, c5]
                out.base[chunk] = s
            }
        }}}}}
        var total = MatchSums()
        for p in partials { total.add(p) }
        return total
    }

    /// Refines `warp` (reference → slice, centred coordinates of this level) until the update
    /// moves no corner of the level by more than `tolerance` pixels, or `maxIterations`.
    static func refine(template: TemplateLevel, slice: Plane, warp initial: Affine,
                       maxIterations: Int, tolerance: Double) -> LevelFit {
        let w = template.image.width, h = template.image.height
        let interior = Double(max(w - 2, 0) * max(h - 2, 0))
        let p = template.model.parameterCount
        var warp = initial
        var fit = LevelFit(warp: warp, score: 0, validFraction: 0, iterations: 0, failure: nil)
        for iteration in 1...maxIterations {
            let s = sums(template: template, slice: slice, warp: warp)
            fit.iterations = iteration
            fit.validFraction = interior > 0 ? s.count / interior : 0
            guard fit.validFraction >= minimumOverlap else {
                fit.failure = String(format: "only %.0f%% of the reference overlaps the slice", 100 * fit.validFraction)
                return fit
            }
            let varianceI = s.varianceI
            guard varianceI > 1e-12 * max(s.meanI * s.meanI, 1e-30), s.varianceT > 0 else {
                fit.failure = "no contrast where the slice overlaps the reference"
                return fit
            }
            fit.score = s.correlation
            let gain = s.covariance / varianceI
            let offset = s.meanT - gain * s.meanI
            var hessian = template.hessian
            var rhs = [Double](repeating: 0, count: p)
            for r in 0..<p {
                rhs[r] = gain * s.sdI[r] + offset * s.sd[r] - s.sdT[r]
                for c in 0..<p { hessian[r * p + c] -= s.invalidHessian[r * 6 + c] }
            }
            guard let delta = solveSymmetric(hessian, rhs),
                  let inverseIncrement = incrementWarp(template.model, delta).inverse else {
                fit.failure = "the reference has too little texture to fit a \(template.model.rawValue) transform"
                return fit
            }
            warp = warp.composed(after: inverseIncrement)
            fit.warp = warp
            guard warp.isFinite else {
                fit.failure = "the estimate diverged"
                return fit
            }
            let moved = inverseIncrement.maximumCornerDisplacement(halfWidth: Double(w) / 2, halfHeight: Double(h) / 2)
            if moved < tolerance { break }
        }
        return fit
    }

    /// Integer search of the shift, around `warp`, that maximises the correlation coefficient
    /// (bilinear samples), over ±`radius` pixels of this (coarse) level.
    static func searchShift(template: TemplateLevel, slice: Plane, warp: Affine, radius: Int) -> Affine {
        let w = template.image.width, h = template.image.height
        guard w >= 3 && h >= 3, radius > 0 else { return warp }
        let interior = Double((w - 2) * (h - 2))
        let ox = template.originX, oy = template.originY
        let maxX = Double(w - 1), maxY = Double(h - 1)
        let side = 2 * radius + 1
        var scores = [Double](repeating: -2, count: side * side)
        template.image.data.withUnsafeBufferPointer { tBuffer in
        slice.data.withUnsafeBufferPointer { iBuffer in
        scores.withUnsafeMutableBufferPointer { scoreBuffer in
            let t = SharedReadPointer(base: tBuffer.baseAddress!), img = SharedReadPointer(base: iBuffer.baseAddress!)
            let out = SharedPointer(base: scoreBuffer.baseAddress!)
            Parallel.run(chunks: min(side * side, 8)) { chunk in
                for k in Parallel.range(chunk: chunk, of: min(side * side, 8), total: side * side) {
                    let dx = Double(k % side - radius), dy = Double(k / side - radius)
                    var n = 0.0, sI = 0.0, sT = 0.0, sII = 0.0, sTT = 0.0, sIT = 0.0
                    for y in 1..<(h - 1) {
                        let vy = Double(y) - oy, vx = 1 - ox
                        var sx = warp.a * vx + warp.b * vy + warp.tx + dx + ox
                        var sy = warp.c * vx + warp.d * vy + warp.ty + dy + oy
                        for x in 1..<(w - 1) {
                            if sx >= 0 && sx <= maxX && sy >= 0 && sy <= maxY {
                                let iv = Double(sampleBilinear(img.base, width: w, height: h, x: sx, y: sy))
                                let tv = Double(t.base[y * w + x])
                                n += 1; sI += iv; sT += tv; sII += iv * iv; sTT += tv * tv; sIT += iv * tv
                            }
                            sx += warp.a; sy += warp.c
                        }
                    }
                    guard n >= minimumOverlap * interior else { continue }
                    let mI = sI / n, mT = sT / n
                    let d = (max(sII / n - mI * mI, 0) * max(sTT / n - mT * mT, 0)).squareRoot()
                    out.base[k] = d > 0 ? (sIT / n - mI * mT) / d : -2
                }
            }
        }}}
        var best = radius * side + radius   // no shift
        for k in scores.indices where scores[k] > scores[best] + 1e-9 { best = k }
        var result = warp
        result.tx += Double(best % side - radius)
        result.ty += Double(best / side - radius)
        return result
    }
}
