/// Focus-feature conditioning (configuration key `focus_features`): two extra input channels
/// [E1, E2] that tell the U-Net where each source is sharp, so it need not learn a focus measure
/// from ~100 pairs.
///
/// Definition (exact, so training and inference agree), for sources S1, S2 in [−1, 1]:
/// 1. g = the mean over the image channels of a source (its grey level).
/// 2. Laplacian L = g(x−1,y) + g(x+1,y) + g(x,y−1) + g(x,y+1) − 4·g(x,y), borders replicated.
/// 3. Local energy e = √(mean of L² over a 7×7 window), borders replicated (a local RMS Laplacian).
/// 4. Eᵢ = 2·eᵢ / (e₁ + e₂ + δ) − 1 with δ = 0.01: in [−1, 1]; +1 where only source i has detail,
///    0 where both are equally sharp, −1 where it is flat or the other source is much sharper.
/// Every value depends only on a 9×9 neighbourhood, so tiles with overlap ≥ 4 see the same features.
public enum FocusFeatures {
    /// Side of the square energy window.
    public static let window = 7
    /// Regulariser δ of the normalisation, in units of the [−1, 1] image scale.
    public static let delta: Float = 0.01
    /// Number of feature channels appended to the input.
    public static let channels = 2

    /// Features of a batch: `sources` [N, 2·C, H, W] (S1 then S2 per item) → [N, 2, H, W].
    public static func compute(sources: [Float], batch: Int, imageChannels: Int, height: Int, width: Int) -> [Float] {
        let plane = height * width
        precondition(sources.count == batch * 2 * imageChannels * plane, "sources must be [N, 2·C, H, W]")
        var out = [Float](repeating: 0, count: batch * 2 * plane)
        for n in 0..<batch {
            let base = n * 2 * imageChannels * plane
            let e1 = localEnergy(sources, offset: base, channels: imageChannels, height: height, width: width)
            let e2 = localEnergy(sources, offset: base + imageChannels * plane, channels: imageChannels, height: height, width: width)
            let o = n * 2 * plane
            for p in 0..<plane {
                let denominator = e1[p] + e2[p] + delta
                out[o + p] = 2 * e1[p] / denominator - 1
                out[o + plane + p] = 2 * e2[p] / denominator - 1
            }
        }
        return out
    }

    /// √(7×7 mean of L²) of the grey level of the `channels` planes starting at `offset`.
    static func localEnergy(_ data: [Float], offset: Int, channels: Int, height: Int, width: Int) -> [Float] {
        let plane = height * width
        var grey = [Float](repeating: 0, count: plane)
        let scale = 1 / Float(channels)
        for c in 0..<channels {
            let o = offset + c * plane
            for p in 0..<plane { grey[p] += data[o + p] * scale }
        }
        var squared = [Float](repeating: 0, count: plane)
        for y in 0..<height {
            let up = max(y - 1, 0) * width, down = min(y + 1, height - 1) * width, row = y * width
            for x in 0..<width {
                let left = max(x - 1, 0), right = min(x + 1, width - 1)
                let l = grey[row + left] + grey[row + right] + grey[up + x] + grey[down + x] - 4 * grey[row + x]
                squared[row + x] = l * l
            }
        }
        var energy = boxMean(squared, height: height, width: width, radius: window / 2)
        for p in 0..<plane { energy[p] = energy[p].squareRoot() }
        return energy
    }

    /// Separable (2r+1)² box mean with replicated borders.
    static func boxMean(_ input: [Float], height: Int, width: Int, radius: Int) -> [Float] {
        var horizontal = [Float](repeating: 0, count: input.count)
        let norm = 1 / Float(2 * radius + 1)
        for y in 0..<height {
            let row = y * width
            for x in 0..<width {
                var sum: Float = 0
                for d in -radius...radius { sum += input[row + min(max(x + d, 0), width - 1)] }
                horizontal[row + x] = sum * norm
            }
        }
        var out = [Float](repeating: 0, count: input.count)
        for y in 0..<height {
            for x in 0..<width {
                var sum: Float = 0
                for d in -radius...radius { sum += horizontal[min(max(y + d, 0), height - 1) * width + x] }
                out[y * width + x] = sum * norm
            }
        }
        return out
    }
}
