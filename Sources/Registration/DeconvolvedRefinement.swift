import Foundation
import Imaging

/// Fits every aligned slice's shift again, several passes, against the slice the stack's own
/// least-squares specimen predicts (`AlignmentOptions.renderPasses`; ARCHITECTURE.md, "Aligning
/// slices that breathe").
///
/// Each pass: resample the slices into the reference frame with the current transforms; estimate a
/// depth map (the LoG focus peak, then `depthRounds` rounds of: solve the in-focus image by least
/// squares under ``LayeredImaging``, refit each pixel's depth to the slices given that image);
/// solve the image once more and predict every slice from it; refit every slice's shift — the
/// reference's too — against its prediction, by a weighted least-squares fit with gain and offset
/// that trusts each pixel by how well the model explains it over all slices
/// (`1 / (1 + misfit / (robustScale · median misfit))`); and move each slice by `overRelaxation`
/// times its fit minus the reference's (the model's frame is the reference's only up to that
/// common offset). The linear part of every transform (the known breathing) is kept — unless the
/// breathing is fitted too (`AlignmentOptions.fitBreathing`): then each fit also has a scale about
/// the frame centre, and after every pass one breathing for the stack (the weighted least-squares
/// slope of the slices' over-relaxed magnifications against slice position) sets every slice's scale.
///
/// The planes are the finest pyramid level the direct fit used (`level`). The PSF growth (candidates in full-resolution pixels per
/// slice, scaled to the level) and the layering (`scatter` or `gather`) are chosen on the first pass,
/// from the candidates whose model explains the slices best with the LoG depth.
struct DeconvolvedRefinement {
    let passes: Int
    /// The pyramid level of the planes.
    let level: Int
    let reference: Int

    /// PSF growth candidates, full-resolution pixels of Gaussian σ per slice of defocus.
    static let growthCandidates = [0.7, 1.0, 1.4]
    static let solveIterations = 15
    static let depthRounds = 2
    static let overRelaxation = 1.5
    static let robustScale = 2.0
    static let margin = 8
    /// A fitted breathing beyond this (10 % across the stack, the profiles' limit) is not believed:
    /// the pass keeps the previous one.
    static let maximumBreathing = 0.1
    /// Candidate depths per slice of the depth refit.
    static let depthStep = 0.25
    /// Box window (pixels) over which the depth refit sums each candidate's squared error.
    static let depthWindow = 5

    struct Outcome {
        var warps: [Affine?]
        var growth: Double
        var layering: LayeredImaging.Layering
        /// The breathing fitted, when asked for.
        var breathing: Double?
    }

    /// - Parameters:
    ///   - planes: every slice's luminance at the finest estimation level.
    ///   - warps: reference → slice, level-0 centred coordinates; nil for slices left unaligned
    ///     (kept out of the model and unchanged).
    ///   - layering: the image formation to use, or nil to choose it on the first pass.
    ///   - breathing: the breathing to start from when it is fitted too (one magnification slope for the
    ///     whole stack, ``AlignmentOptions/breathing``'s units; the warps' linear parts are replaced by
    ///     it after every pass); nil keeps each warp's linear part.
    func refine(planes: [Plane], warps: [Affine?], fullWidth: Int, fullHeight: Int,
                layering fixedLayering: LayeredImaging.Layering? = nil, breathing initialBreathing: Double? = nil) -> Outcome {
        let scale = Double(1 << level)
        let width = planes[0].width, height = planes[0].height
        let originX = ((Double(fullWidth) - 1) / 2 - (scale - 1) / 2) / scale
        let originY = ((Double(fullHeight) - 1) / 2 - (scale - 1) / 2) / scale
        let modelled = warps.indices.filter { warps[$0] != nil }
        guard modelled.count > 2, modelled.contains(reference) else {
            return Outcome(warps: warps, growth: 1, layering: fixedLayering ?? .scatter, breathing: initialBreathing)
        }
        let focus = modelled.map(Double.init)
        let referenceSlot = modelled.firstIndex(of: reference)!
        var current = warps
        var breathing = initialBreathing
        @Sendable func levelWarp(_ w: Affine) -> Affine {
            Affine(a: w.a, b: w.b, tx: w.tx / scale, c: w.c, d: w.d, ty: w.ty / scale)
        }
        func aligned(_ k: Int, _ warp: Affine) -> [Float] {
            Self.resample(planes[k], warp: levelWarp(warp), originX: originX, originY: originY)
        }
        let frame = PaddedFrame(width: width, height: height)
        let interior = Self.interiorMask(width: width, height: height)
        var choice: (growth: Double, layering: LayeredImaging.Layering)?
        for _ in 0..<passes {
            let views = modelled.map { aligned($0, current[$0]!) }
            let base = Double(Self.percentile(views, 0.02))
            let slices = views.map { $0.map { Double($0) - base } }
            let logDepth = Self.focusDepth(views, focus: focus, width: width, height: height)
            if choice == nil {
                choice = Self.choose(slices, focus: focus, depth: logDepth, interior: interior, frame: frame, levelScale: scale,
                                     layerings: fixedLayering.map { [$0] } ?? LayeredImaging.Layering.allCases)
            }
            let (growth, layering) = choice!
            func model(_ depth: [Double]) -> LayeredImaging {
                LayeredImaging(focus: focus, width: width, height: height, depth: depth, growth: growth, layering: layering, frame: frame)
            }
            var depth = logDepth
            for _ in 0..<Self.depthRounds {
                let image = model(depth).solve(slices, iterations: Self.solveIterations)
                depth = Self.fitDepth(slices, image: image, focus: focus, width: width, height: height, growth: growth, frame: frame)
            }
            let final = model(depth)
            let image = final.solve(slices, iterations: Self.solveIterations)
            let predicted = final.forward(image)
            let weight = Self.trust(predicted: predicted, slices: slices, width: width, height: height)
            let mask = zip(weight, interior).map { $1 ? $0 : 0 }
            // Every modelled slice's placement (reference-frame level pixels) against its prediction.
            let starts = modelled.map { levelWarp(current[$0]!) }
            let fitsScale = breathing != nil
            let fits = LayeredImaging.map(Array(modelled.indices)) { i -> Placement? in
                let target = predicted[i].map { $0 + base }
                return Self.placementFit(plane: planes[modelled[i]], target: target, warp: starts[i], weight: mask,
                                         originX: originX, originY: originY, fitsScale: fitsScale)
            }
            guard let anchor = fits[referenceSlot] else { break }
            // The model's frame is the reference's only up to the reference's own placement: slice k moves
            // by its placement after the inverse of the reference's, over-relaxed. Its scale (1 unless the
            // breathing is fitted) only feeds the breathing below.
            var magnifications: [(index: Int, magnification: Double, weight: Double)] = []
            for (i, k) in modelled.enumerated() where k != reference {
                guard let f = fits[i], var w = current[k] else { continue }
                let dx = Self.overRelaxation * (f.dx - f.scale / anchor.scale * anchor.dx) * scale
                let dy = Self.overRelaxation * (f.dy - f.scale / anchor.scale * anchor.dy) * scale
                w.tx += w.a * dx + w.b * dy
                w.ty += w.c * dx + w.d * dy
                current[k] = w
                if let v = f.scaleVariance, let av = anchor.scaleVariance, v > 0 {
                    let r = 1 + Self.overRelaxation * (f.scale / anchor.scale - 1)
                    magnifications.append((k, w.scale * r, 1 / (v + av)))
                }
            }
            // One breathing for the whole stack: the magnifications' inverse-variance-weighted slope (kept
            // unless implausible), every slice then set to it (its shift kept).
            if let previous = breathing {
                var stack = previous
                if let fitted = AlignmentOptions.breathing(fromMagnifications: magnifications, reference: reference, count: planes.count),
                   abs(fitted) <= Self.maximumBreathing {
                    stack = fitted
                }
                breathing = stack
                for k in modelled where k != reference {
                    guard var w = current[k] else { continue }
                    let r = AlignmentOptions.breathingScale(stack, of: k, reference: reference, count: planes.count) / w.scale
                    w.a *= r; w.b *= r; w.c *= r; w.d *= r
                    current[k] = w
                }
            }
        }
        return Outcome(warps: current, growth: choice?.growth ?? 1, layering: choice?.layering ?? .scatter, breathing: breathing)
    }

    // MARK: Pieces

    /// True away from the frame's `margin`-pixel border.
    static func interiorMask(width: Int, height: Int) -> [Bool] {
        let m = min(margin, min(width, height) / 4)
        return (0..<(width * height)).map { p in
            let x = p % width, y = p / width
            return x >= m && x < width - m && y >= m && y < height - m
        }
    }

    /// The `q` quantile of all pixels (a sorted sample of at most ~1M values).
    static func percentile(_ planes: [[Float]], _ q: Double) -> Float {
        let total = planes.reduce(0) { $0 + $1.count }
        let stride = max(1, total / 1_000_000)
        var sample: [Float] = []
        sample.reserveCapacity(total / stride + 1)
        var i = 0
        for plane in planes { for v in plane { if i % stride == 0 { sample.append(v) }; i += 1 } }
        sample.sort()
        return sample[min(sample.count - 1, Int(q * Double(sample.count)))]
    }

    /// The LoG focus depth of ``FocusDepth`` (peak, sub-slice fit, focus-weighted smoothing),
    /// mapped from modelled-slice index to focus position.
    static func focusDepth(_ views: [[Float]], focus: [Double], width: Int, height: Int) -> [Double] {
        FocusDepth.estimate(count: views.count, width: width, height: height) { views[$0] }.map { d in
            let i = min(focus.count - 1, max(0, Int(Double(d).rounded(.down))))
            let j = min(focus.count - 1, i + 1), t = Double(d) - Double(i)
            return focus[i] + t * (focus[j] - focus[i])
        }
    }

    /// The PSF growth and layering whose least-squares image, on the LoG depth, leaves the
    /// smallest squared error over the slices' interior.
    static func choose(_ slices: [[Double]], focus: [Double], depth: [Double], interior: [Bool],
                       frame: PaddedFrame, levelScale: Double, layerings: [LayeredImaging.Layering]) -> (growth: Double, layering: LayeredImaging.Layering) {
        var best = (error: Double.infinity, growth: 1.0, layering: layerings[0])
        for layering in layerings {
            for candidate in growthCandidates {
                let growth = candidate / levelScale
                let model = LayeredImaging(focus: focus, width: frame.width, height: frame.height, depth: depth, growth: growth,
                                           layering: layering, frame: frame)
                let predicted = model.forward(model.solve(slices, iterations: solveIterations))
                var error = 0.0
                for (s, p) in zip(slices, predicted) {
                    for q in s.indices where interior[q] { let d = s[q] - p[q]; error += d * d }
                }
                if error < best.error { best = (error, growth, layering) }
            }
        }
        return (best.growth, best.layering)
    }

    /// Per pixel, the candidate depth (every `depthStep` slices over the focus range) whose
    /// defocused image best matches the slices, errors summed over a `depthWindow` box.
    static func fitDepth(_ slices: [[Double]], image: [Double], focus: [Double], width: Int, height: Int,
                         growth: Double, frame: PaddedFrame) -> [Double] {
        let n = width * height
        let bottom = focus.min()!, top = focus.max()!
        let candidates = Array(stride(from: bottom, through: top + 1e-9, by: depthStep))
        let levels = Int(((top - bottom) / depthStep).rounded()) + 1
        let table = frame.transferTable(growth: growth, levels: levels, step: depthStep)
        let spectrum = frame.fourier.forward(frame.padded(image))
        // Which (candidate, slice) pairs see level q.
        var users = [[(Int, Int)]](repeating: [], count: levels)
        for (c, h) in candidates.enumerated() {
            for (k, f) in focus.enumerated() {
                let q = Int((abs(f - h) / depthStep).rounded())
                users[q].append((c, k))
            }
        }
        var best = [Double](repeating: .infinity, count: n)
        var depth = [Double](repeating: (bottom + top) / 2, count: n)
        // Candidates in blocks, so the error planes stay within ~256 MB.
        let block = max(1, min(candidates.count, 32_000_000 / max(n, 1)))
        for start in stride(from: 0, to: candidates.count, by: block) {
            let range = start..<min(candidates.count, start + block)
            var cost = [[Float]](repeating: [Float](repeating: 0, count: n), count: range.count)
            for q in 0..<levels {
                let pairs = users[q].filter { range.contains($0.0) }
                if pairs.isEmpty { continue }
                let blurred = frame.blurred(spectrum: spectrum, transfer: table, q)
                for (c, k) in pairs {
                    let s = slices[k]
                    cost[c - start].withUnsafeMutableBufferPointer { e in
                        for p in 0..<n { let d = s[p] - blurred[p]; e[p] += Float(d * d) }
                    }
                }
            }
            for (i, c) in range.enumerated() {
                let summed = PlaneBlur.boxMean(cost[i], width: width, height: height, radius: depthWindow / 2)
                for p in 0..<n where Double(summed[p]) < best[p] {
                    best[p] = Double(summed[p])
                    depth[p] = candidates[c]
                }
            }
        }
        return depth
    }

    /// Per pixel, how much its fit is trusted: `1 / (1 + m / (robustScale · median m))`, `m` the
    /// model's squared error averaged over the slices and a 5-pixel box.
    static func trust(predicted: [[Double]], slices: [[Double]], width: Int, height: Int) -> [Double] {
        let n = width * height
        var misfit = [Float](repeating: 0, count: n)
        for (p, s) in zip(predicted, slices) {
            for q in 0..<n { let d = p[q] - s[q]; misfit[q] += Float(d * d) / Float(slices.count) }
        }
        let smoothed = PlaneBlur.boxMean(misfit, width: width, height: height, radius: 2)
        let median = Double(smoothed.sorted()[n / 2])
        guard median > 0 else { return [Double](repeating: 1, count: n) }
        return smoothed.map { 1 / (1 + Double($0) / (robustScale * median)) }
    }

    /// Where a slice sits against its prediction: the reference-frame shift (level pixels) and
    /// magnification about the frame centre.
    struct Placement {
        var dx = 0.0, dy = 0.0
        var scale = 1.0
        /// The scale's variance up to the residual's (the inverse normal matrix's entry): weights a
        /// regression of many slices' scales. Nil when the scale was not fitted.
        var scaleVariance: Double?
    }

    /// The placement that best maps `plane`, resampled through `warp ∘ (scale·u + shift)`, onto
    /// `gain · target + offset`, by weighted Gauss–Newton on the resampled plane's gradient; the
    /// scale stays 1 unless `fitsScale`. Nil when the fit is singular (no texture).
    static func placementFit(plane: Plane, target: [Double], warp: Affine, weight: [Double], originX: Double, originY: Double,
                             fitsScale: Bool, maxIterations: Int = 30, tolerance: Double = 1e-4) -> Placement? {
        let w = plane.width, h = plane.height
        let used = fitsScale ? [0, 1, 2, 3, 4] : [0, 1, 3, 4]
        var placement = Placement()
        var normal: [Double] = []
        for _ in 0..<maxIterations {
            let s = placement.scale
            let moved = Affine(a: warp.a * s, b: warp.b * s, tx: warp.tx + warp.a * placement.dx + warp.b * placement.dy,
                               c: warp.c * s, d: warp.d * s, ty: warp.ty + warp.c * placement.dx + warp.d * placement.dy)
            let view = Self.resample(plane, warp: moved, originX: originX, originY: originY)
            // Lanes: ∂/∂dx, ∂/∂dy, ∂/∂scale, gain, offset (lanes 5–7 unused).
            var rows = [SIMD8<Double>](repeating: SIMD8(), count: 5), rhs = SIMD8<Double>()
            for y in 1..<(h - 1) {
                let yc = Double(y) - originY
                for x in 1..<(w - 1) {
                    let p = y * w + x
                    let wt = weight[p]
                    if wt <= 0 { continue }
                    let gx = 0.5 * Double(view[p + 1] - view[p - 1]) / s, gy = 0.5 * Double(view[p + w] - view[p - w]) / s
                    let gs = fitsScale ? gx * (Double(x) - originX) + gy * yc : 0
                    let j = SIMD8(gx, gy, gs, target[p], 1, 0, 0, 0)
                    let wj = wt * j
                    rhs -= wj * Double(view[p])
                    for r in 0..<5 { rows[r] += wj * j[r] }
                }
            }
            normal = used.flatMap { r in used.map { rows[r][$0] } }
            guard let step = solveSymmetric(normal, used.map { rhs[$0] }), step.allSatisfy(\.isFinite) else { return nil }
            placement.dx += step[0]
            placement.dy += step[1]
            if fitsScale { placement.scale += step[2] }
            if max(abs(step[0]), abs(step[1]), fitsScale ? abs(step[2]) * Double(max(w, h)) : 0) < tolerance { break }
        }
        if fitsScale {
            let unit = used.indices.map { $0 == 2 ? 1.0 : 0.0 }
            placement.scaleVariance = solveSymmetric(normal, unit)?[2]
        }
        return placement
    }

    /// `plane` resampled into the reference frame: pixel `x` takes the slice at `warp(x − origin) + origin`
    /// (``Resampler``: bicubic, edges repeated).
    static func resample(_ plane: Plane, warp: Affine, originX: Double, originY: Double) -> [Float] {
        let image = Image(width: plane.width, height: plane.height, channels: 1, pixels: plane.data)
        return Resampler.warp(image, referenceToSlice: warp.shiftedOrigin(originX, originY),
                              crop: (0, 0, plane.width, plane.height), gain: 1, offset: 0, maximum: nil).pixels
    }
}
