import Foundation
import Imaging

/// Fits every aligned slice again, several passes, against a rendering of the specimen at its
/// own focus (``FocusRendering``) built from the stack aligned so far (`AlignmentOptions.renderPasses`).
///
/// Each pass: resample the slices into the reference frame with the current transforms, estimate
/// depth and in-focus luminance, then visit the slices outward from the reference (the next above,
/// the next below, …): render the slice's focus, refit the slice against its rendering (the same
/// correlation fit and model as the direct fit, on the finest estimation level), and put the
/// re-aligned slice's pixels back into the in-focus luminance where it supplies them — so each
/// slice is fitted against neighbours already corrected in this pass, and a correction travels
/// from the fixed reference to the far ends within one pass (Gauss–Seidel; refitting all slices
/// against one rendering per pass moved the error only one slice per pass). The PSF growth per
/// slice of defocus is fitted on the first pass (the candidate whose renderings best match the
/// slices). Deterministic: the order is fixed and each rendering sums its layers in a fixed order.
struct RenderedRefinement {
    let options: AlignmentOptions
    let plan: PyramidPlan
    let reference: Int

    /// Candidate PSF growths (Gaussian σ per slice of defocus, level-0 pixels).
    static let defocusCandidates = [0.5, 0.7, 1.0, 1.4, 2.0]

    /// - Parameters:
    ///   - planes: every slice's luminance at the finest estimation level.
    ///   - warps: reference → slice, level-0 centred coordinates; nil for slices left unaligned.
    /// - Returns: the refined warps (unaligned slices unchanged) and the PSF growth used.
    func refine(planes: [Plane], warps: [Affine?], fullWidth: Int, fullHeight: Int) -> (warps: [Affine?], defocusPerSlice: Double) {
        let level = plan.finest
        let scale = Double(1 << level)
        let width = planes[0].width, height = planes[0].height
        let originX = ((Double(fullWidth) - 1) / 2 - (scale - 1) / 2) / scale
        let originY = ((Double(fullHeight) - 1) / 2 - (scale - 1) / 2) / scale
        var current = warps
        var defocus = 0.0
        func levelWarp(_ w: Affine) -> Affine {
            Affine(a: w.a, b: w.b, tx: w.tx / scale, c: w.c, d: w.d, ty: w.ty / scale)
        }
        func aligned(_ k: Int) -> [Float] {
            Self.resample(planes[k], warp: levelWarp(current[k] ?? .identity), originX: originX, originY: originY)
        }
        var order: [Int] = []
        for step in 1..<max(planes.count, 1) {
            if reference + step < planes.count { order.append(reference + step) }
            if reference - step >= 0 { order.append(reference - step) }
        }
        for pass in 0..<options.renderPasses {
            var model = FocusRendering(count: planes.count, width: width, height: height, aligned: aligned)
            if pass == 0 {
                defocus = Self.fitDefocus(model, count: planes.count, scale: scale, aligned: aligned)
            }
            for k in order {
                guard let warp = current[k] else { continue }
                let rendering = Plane(width: width, height: height,
                                      data: model.render(focus: Double(k), defocusPerSlice: defocus / scale))
                let template = TemplateLevel(image: rendering, level: level, model: options.model,
                                             fullWidth: fullWidth, fullHeight: fullHeight)
                let fit = CorrelationFit.refine(template: template, slice: planes[k], warp: levelWarp(warp),
                                                maxIterations: 10, tolerance: 0.002)
                guard fit.failure == nil, fit.warp.isFinite else { continue }
                var refined = fit.warp
                refined.tx *= scale
                refined.ty *= scale
                current[k] = refined
                let moved = aligned(k)
                for p in model.source.indices where model.source[p] == Int32(k) { model.image[p] = moved[p] }
            }
        }
        return (current, defocus)
    }

    /// The PSF growth (level-0 pixels per slice) whose renderings of six slices spread over the
    /// stack match those slices best (sum of squared differences away from the border).
    static func fitDefocus(_ model: FocusRendering, count: Int, scale: Double, aligned: (Int) -> [Float]) -> Double {
        let samples = Array(Set((0..<6).map { $0 * (count - 1) / 5 })).sorted()
        let slices = samples.map { aligned($0) }
        let w = model.width, h = model.height, margin = min(8, min(w, h) / 4)
        var best = (error: Double.infinity, growth: 1.0)
        for growth in defocusCandidates {
            var error = 0.0
            for (i, k) in samples.enumerated() {
                let rendering = model.render(focus: Double(k), defocusPerSlice: growth / scale)
                for y in margin..<(h - margin) {
                    for x in margin..<(w - margin) {
                        let d = Double(rendering[y * w + x] - slices[i][y * w + x])
                        error += d * d
                    }
                }
            }
            if error < best.error { best = (error, growth) }
        }
        return best.growth
    }

    /// `plane` resampled into the reference frame: pixel `x` takes the slice at `warp(x − origin) + origin`
    /// (``Resampler``: bicubic, edges repeated).
    static func resample(_ plane: Plane, warp: Affine, originX: Double, originY: Double) -> [Float] {
        let image = Image(width: plane.width, height: plane.height, channels: 1, pixels: plane.data)
        return Resampler.warp(image, referenceToSlice: warp.shiftedOrigin(originX, originY),
                              crop: (0, 0, plane.width, plane.height), gain: 1, offset: 0, maximum: nil).pixels
    }
}
