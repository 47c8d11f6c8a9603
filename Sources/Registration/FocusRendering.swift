import Foundation
import Imaging

/// The specimen as an aligned stack shows it, and how each slice should look if it were aligned:
/// per pixel of the reference frame a focal depth and an in-focus luminance, rendered at any
/// slice's focus by spreading depth layers through a Gaussian defocus blur (ARCHITECTURE.md,
/// "Aligning slices that breathe").
///
/// Why: two slices focused at different depths of a tilted specimen do not correlate at their
/// true offset — each structure's sharp image in one meets its neighbours' blurred images in the
/// other, and those cross terms are not symmetric, so a direct fit moves towards the more
/// defocused side (`focusd bench align --set breathing --breathing 0 --drift 0` shows it). A slice
/// compared with a rendering of the specimen at its own focus has no such bias.
///
/// Depth: a LoG focus measure (σ 2 px, 15-pixel box) per slice, its peak over slices refined by a
/// Gaussian (a parabola through the logarithms at the peak and its neighbours), then smoothed by
/// a Gaussian of `depthSmoothing` pixels weighted by how far each pixel's peak stands above its
/// mean over the slices — so empty background takes the depth of the structure around it and
/// the rendering stays consistent where single-pixel depths are noise. In-focus luminance: the
/// aligned slice nearest that depth.
struct FocusRendering: Sendable {
    let width: Int
    let height: Int
    /// In-focus luminance, reference frame.
    var image: [Float]
    /// Per pixel: the slice its in-focus luminance comes from (the one nearest its depth).
    let source: [Int32]
    /// Smoothed focal depth, slice units.
    let depth: [Float]
    /// Depth of layer `j` (layers `layerSpacing` slices apart from the shallowest depth).
    let layerDepths: [Double]
    /// Per pixel: the layer just below its depth and the share of its light in the next layer.
    let layerIndex: [Int32]
    let layerFraction: [Float]
    /// Layers that hold any light.
    let usedLayers: [Int]

    static let evidenceSigma = 2.0
    static let evidenceWindow = 15
    static let depthSmoothing = 16.0
    static let layerSpacing = 0.5

    /// Builds the model from the stack's slices as they look in the reference frame.
    /// - Parameter aligned: returns slice `k` resampled into the reference frame (called once per
    ///   slice in order, and again for the slices the in-focus luminance takes pixels from).
    init(count: Int, width: Int, height: Int, aligned: (Int) -> [Float]) {
        self.width = width
        self.height = height
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
        let depth = (0..<n).map { p in
            smoothedWeight[p] > 1e-20 ? min(Float(count - 1), max(0, weightedDepth[p] / smoothedWeight[p])) : fallback
        }
        self.depth = depth
        // In-focus luminance: each pixel from the aligned slice nearest its depth.
        var image = [Float](repeating: 0, count: n)
        var nearest = [[Int]](repeating: [], count: count)
        var source = [Int32](repeating: 0, count: n)
        for p in 0..<n {
            let k = min(count - 1, max(0, Int(depth[p].rounded())))
            nearest[k].append(p)
            source[p] = Int32(k)
        }
        self.source = source
        for k in 0..<count where !nearest[k].isEmpty {
            let plane = aligned(k)
            for p in nearest[k] { image[p] = plane[p] }
        }
        self.image = image
        // Depth layers: each pixel's light shared linearly between the two layers around its depth.
        let lo = Double(depth.min() ?? 0), hi = Double(depth.max() ?? 0)
        let spacing = Self.layerSpacing
        let layerCount = Int(((hi - lo) / spacing).rounded(.up)) + 1
        var layerIndex = [Int32](repeating: 0, count: n), layerFraction = [Float](repeating: 0, count: n)
        var used = [Bool](repeating: false, count: layerCount)
        for p in 0..<n {
            let u = (Double(depth[p]) - lo) / spacing
            let j = min(Int(u), layerCount - 1), t = Float(u - Double(j))
            layerIndex[p] = Int32(j)
            layerFraction[p] = j + 1 < layerCount ? t : 0
            used[j] = true
            if j + 1 < layerCount, t > 0 { used[j + 1] = true }
        }
        self.layerIndex = layerIndex
        self.layerFraction = layerFraction
        layerDepths = (0..<layerCount).map { lo + Double($0) * spacing }
        usedLayers = (0..<layerCount).filter { used[$0] }
    }

    /// The specimen as slice `focus` shows it: each depth layer blurred by a Gaussian of
    /// `defocusPerSlice · |focus − z|` pixels (beyond the in-focus blur the luminance already
    /// holds), summed.
    /// Layers are blurred in `renderChunks` groups concurrently and the groups summed in order, so
    /// the result does not depend on the number of cores.
    func render(focus: Double, defocusPerSlice: Double) -> [Float] {
        let n = width * height
        let chunks = min(Self.renderChunks, usedLayers.count)
        var partials = [[Float]](repeating: [], count: chunks)
        partials.withUnsafeMutableBufferPointer { buffer in
            let out = SharedPointer(base: buffer.baseAddress!)
            Parallel.run(chunks: chunks) { chunk in
                var sum = [Float](repeating: 0, count: n)
                var light = [Float](repeating: 0, count: n)
                for j in Parallel.range(chunk: chunk, of: chunks, total: usedLayers.count).map({ usedLayers[$0] }) {
                    let below = Int32(j), above = Int32(j - 1)
                    for p in 0..<n {
                        let i = layerIndex[p]
                        light[p] = i == below ? image[p] * (1 - layerFraction[p]) : i == above ? image[p] * layerFraction[p] : 0
                    }
                    let blurred = PlaneBlur.fastGaussian(light, width: width, height: height,
                                                         sigma: defocusPerSlice * abs(focus - layerDepths[j]))
                    for p in 0..<n { sum[p] += blurred[p] }
                }
                out.base[chunk] = sum
            }
        }
        var out = partials[0]
        for chunk in 1..<chunks { for p in 0..<n { out[p] += partials[chunk][p] } }
        return out
    }

    /// Groups of layers blurred concurrently by `render`.
    static let renderChunks = 4

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
