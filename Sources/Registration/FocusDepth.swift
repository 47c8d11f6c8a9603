import Foundation
import Imaging

/// The focal depth of every pixel of an aligned stack, as the first estimate of
/// ``DeconvolvedRefinement`` (ARCHITECTURE.md, "Aligning slices that breathe").
///
/// A LoG focus measure (σ 2 px, 15-pixel box) per slice, its peak over slices refined by a
/// Gaussian (a parabola through the logarithms at the peak and its neighbours), then smoothed by
/// a Gaussian of `depthSmoothing` pixels weighted by how far each pixel's peak stands above its
/// mean over the slices — so empty background takes the depth of the structure around it and
/// single-pixel depths that are noise do not count.
enum FocusDepth {
    static let evidenceSigma = 2.0
    static let evidenceWindow = 15
    static let depthSmoothing = 16.0

    /// Smoothed depth per pixel, slice-index units (`0…count−1`).
    /// - Parameter aligned: returns slice `k` resampled into the reference frame (called once per slice, in order).
    static func estimate(count: Int, width: Int, height: Int, aligned: (Int) -> [Float]) -> [Float] {
        let n = width * height
        var best = [Float](repeating: -1, count: n), before = best, after = best
        var index = [Int32](repeating: 0, count: n)
        var sum = [Float](repeating: 0, count: n)
        var previous = [Float](repeating: 0, count: n)
        for k in 0..<count {
            let measure = Self.focusMeasure(aligned(k), width: width, height: height)
            for p in 0..<n {
                let v = measure[p]
                sum[p] += v
                if v > best[p] {
                    best[p] = v
                    index[p] = Int32(k)
                    before[p] = k > 0 ? previous[p] : -1
                    after[p] = -1
                } else if Int(index[p]) == k - 1 {
                    after[p] = v
                }
            }
            previous = measure
        }
        // Sub-slice peak and its weight.
        var rawDepth = [Float](repeating: 0, count: n)
        var weight = [Float](repeating: 0, count: n)
        for p in 0..<n {
            var d = Double(index[p])
            let b = Double(best[p]), lo = Double(before[p]), hi = Double(after[p])
            if lo > 0, hi > 0, b > 0 {
                let l0 = log(b), lm = log(lo), lp = log(hi)
                let curvature = lm - 2 * l0 + lp
                if curvature < 0 { d += min(0.5, max(-0.5, 0.5 * (lm - lp) / curvature)) }
            }
            rawDepth[p] = Float(d)
            weight[p] = max(0, best[p] - sum[p] / Float(count))
        }
        let sigma = Self.depthSmoothing
        let weightedDepth = PlaneBlur.fastGaussian(zip(rawDepth, weight).map { $0 * $1 }, width: width, height: height, sigma: sigma)
        let smoothedWeight = PlaneBlur.fastGaussian(weight, width: width, height: height, sigma: sigma)
        let fallback = Float(count - 1) / 2
        return (0..<n).map { p in
            smoothedWeight[p] > 1e-20 ? min(Float(count - 1), max(0, weightedDepth[p] / smoothedWeight[p])) : fallback
        }
    }

    /// The LoG focus measure: squared Laplacian of a Gaussian-smoothed plane, box-averaged.
    static func focusMeasure(_ plane: [Float], width: Int, height: Int) -> [Float] {
        let smooth = PlaneBlur.gaussian(plane, width: width, height: height, sigma: evidenceSigma)
        var squared = [Float](repeating: 0, count: plane.count)
        for y in 0..<height {
            let up = PlaneBlur.reflect(y - 1, height) * width, down = PlaneBlur.reflect(y + 1, height) * width
            let row = y * width
            for x in 0..<width {
                let left = PlaneBlur.reflect(x - 1, width), right = PlaneBlur.reflect(x + 1, width)
                let l = smooth[up + x] + smooth[down + x] + smooth[row + left] + smooth[row + right] - 4 * smooth[row + x]
                squared[row + x] = l * l
            }
        }
        return PlaneBlur.boxMean(squared, width: width, height: height, radius: evidenceWindow / 2)
    }
}
