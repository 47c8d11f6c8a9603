import Foundation
import Imaging

/// Fits one slice against the prepared reference, coarse to fine, and judges the result.
struct SliceEstimator: Sendable {
    let options: AlignmentOptions
    let plan: PyramidPlan
    /// Reference levels `plan.finest…plan.coarsest`, finest first.
    let templates: [TemplateLevel]

    /// Shift search radius on the coarsest level, in its pixels: at least 4, and at least 48
    /// full-resolution pixels, beyond the neighbour's transform the search starts from.
    var searchRadius: Int { max(4, Int((48.0 / Double(1 << plan.coarsest)).rounded(.up))) }
    /// Largest plausible change of scale between a slice and the reference.
    static let scaleLimits = 0.5...2.0

    struct Outcome {
        var transform: SliceTransform
        /// Reference → slice in level-0 centred coordinates (identity when unaligned).
        var warp: Affine
    }

    /// `true` when a plane has no usable contrast (constant up to rounding).
    static func isBlank(_ plane: Plane) -> Bool {
        let (mean, deviation) = plane.meanAndDeviation
        return !(deviation > 1e-6 * max(abs(mean), 1e-3))
    }

    static func unaligned(index: Int, name: String, reason: String, score: Double = 0) -> SliceTransform {
        SliceTransform(index: index, matrix: Affine.identity.rows, score: score.isFinite ? score : 0, aligned: false,
                       warning: "slice \(index) (\(name)): \(reason); left unaligned")
    }

    /// - Parameter pyramid: the slice's luminance pyramid, levels 0…`plan.coarsest`.
    func estimate(pyramid: LuminancePyramid, initial: Affine, index: Int, name: String) -> Outcome {
        let width = pyramid.levels[0].width, height = pyramid.levels[0].height
        func fail(_ reason: String, score: Double = 0) -> Outcome {
            Outcome(transform: SliceEstimator.unaligned(index: index, name: name, reason: reason, score: score), warp: .identity)
        }
        if SliceEstimator.isBlank(pyramid.levels[plan.finest]) {
            return fail("blank (no contrast)")
        }
        var warp = initial
        var score = 0.0
        for template in templates.reversed() {
            let level = template.level
            let s = template.scale
            var levelWarp = warp
            levelWarp.tx /= s
            levelWarp.ty /= s
            let slicePlane = pyramid.levels[level]
            if level == plan.coarsest {
                levelWarp = CorrelationFit.searchShift(template: template, slice: slicePlane, warp: levelWarp,
                                                       radius: searchRadius)
            }
            let finest = level == plan.finest
            let fit = CorrelationFit.refine(template: template, slice: slicePlane, warp: levelWarp,
                                            maxIterations: finest ? 25 : 40, tolerance: finest ? 0.002 : 0.02)
            if let failure = fit.failure {
                return fail("\(failure) (pyramid level \(level))", score: fit.score)
            }
            warp = fit.warp
            warp.tx *= s
            warp.ty *= s
            score = fit.score
        }
        let linear = Affine(a: warp.a, b: warp.b, tx: 0, c: warp.c, d: warp.d, ty: 0)
        guard warp.isFinite, SliceEstimator.scaleLimits.contains(linear.scale),
              abs(warp.tx) < Double(width), abs(warp.ty) < Double(height) else {
            return fail("the estimate is implausible (scale \(String(format: "%.3f", linear.scale)), shift \(String(format: "%.0f, %.0f", warp.tx, warp.ty)) px)")
        }
        guard score >= options.minimumScore else {
            return fail(String(format: "match score %.3f is under the minimum %.3f (too little overlap, or unrelated content)",
                               score, options.minimumScore), score: score)
        }
        let centreX = (Double(width) - 1) / 2, centreY = (Double(height) - 1) / 2
        guard let sliceToReference = warp.shiftedOrigin(centreX, centreY).inverse else {
            return fail("the estimate is singular")
        }
        var transform = SliceTransform(index: index, matrix: sliceToReference.rows, score: score, aligned: true)
        if options.estimateGainOffset {
            (transform.gain, transform.offset) = brightness(pyramid: pyramid, warp: warp)
        }
        return Outcome(transform: transform, warp: warp)
    }

    /// Gain and offset with `reference ≈ gain·slice + offset`, fitted by least squares to the
    /// means of a 6×6 grid of blocks of the coarsest level: defocus moves light only locally, so
    /// block means follow the illumination, not the sharpness. When the blocks hardly differ in
    /// brightness (a uniform field), the offset is not identifiable and the gain is the ratio of
    /// the means.
    func brightness(pyramid: LuminancePyramid, warp: Affine) -> (gain: Double, offset: Double) {
        let template = templates[templates.count - 1]
        let slice = pyramid.levels[template.level]
        let w = template.image.width, h = template.image.height
        let grid = 6
        var sumT = [Double](repeating: 0, count: grid * grid), sumI = sumT, count = sumT
        let s = template.scale
        let m = Affine(a: warp.a, b: warp.b, tx: warp.tx / s, c: warp.c, d: warp.d, ty: warp.ty / s)
        slice.data.withUnsafeBufferPointer { image in
            for y in 0..<h {
                for x in 0..<w {
                    let vx = Double(x) - template.originX, vy = Double(y) - template.originY
                    let sx = m.a * vx + m.b * vy + m.tx + template.originX
                    let sy = m.c * vx + m.d * vy + m.ty + template.originY
                    guard sx >= 0, sx <= Double(w - 1), sy >= 0, sy <= Double(h - 1) else { continue }
                    let block = min(y * grid / h, grid - 1) * grid + min(x * grid / w, grid - 1)
                    sumT[block] += Double(template.image.data[y * w + x])
                    sumI[block] += Double(sampleBicubic(image.baseAddress!, width: w, height: h, x: sx, y: sy))
                    count[block] += 1
                }
            }
        }
        var points = [(i: Double, t: Double)]()
        for b in 0..<(grid * grid) where count[b] >= 4 { points.append((sumI[b] / count[b], sumT[b] / count[b])) }
        guard !points.isEmpty else { return (1, 0) }
        let n = Double(points.count)
        let meanI = points.map(\.i).reduce(0, +) / n, meanT = points.map(\.t).reduce(0, +) / n
        let varianceI = points.map { ($0.i - meanI) * ($0.i - meanI) }.reduce(0, +) / n
        let covariance = points.map { ($0.i - meanI) * ($0.t - meanT) }.reduce(0, +) / n
        let spread = varianceI.squareRoot() / max(abs(meanI), 1e-12)
        if points.count >= 6, spread >= 0.05, covariance > 0 {
            let gain = covariance / varianceI
            return (gain, meanT - gain * meanI)
        }
        guard meanI > 0, meanT > 0 else { return (1, 0) }
        return (meanT / meanI, 0)
    }
}
