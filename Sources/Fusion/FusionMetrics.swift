import Foundation
import Imaging

/// Fusion-quality metrics, as the multi-focus fusion literature computes them (the MATLAB
/// toolboxes of Liu et al. 2012 and Zhang's MFIFB).
///
/// Every metric works on grey luminance in 0…255: colour images become BT.601 luma
/// (0.2989 R + 0.5870 G + 0.1140 B; images with other channel counts use the channel mean), and
/// values are rescaled by 255 / peak, where the peak is `peak` when given, otherwise inferred from
/// the largest value among the images passed together: ≤ 1 → 1 (float), ≤ 255 → 255 (8-bit),
/// ≤ 65535 → 65535 (16-bit), else the maximum itself. All images of one call must share one size.
public enum FusionMetrics {
    /// A grey image in 0…255, `Double`, row-major.
    struct Grey {
        let width: Int
        let height: Int
        var values: [Double]
        subscript(x: Int, y: Int) -> Double { values[y * width + x] }
    }

    /// The inferred peak of a set of images (see the type's documentation).
    public static func inferredPeak(_ images: [Image]) -> Double {
        var maximum: Float = 0
        for image in images { for v in image.pixels where v.isFinite { maximum = max(maximum, v) } }
        if maximum <= 1 { return 1 }
        if maximum <= 255 { return 255 }
        if maximum <= 65535 { return 65535 }
        return Double(maximum)
    }

    static func grey(_ images: [Image], peak: Double?) -> [Grey] {
        let first = images[0]
        for image in images {
            precondition(image.width == first.width && image.height == first.height,
                         "metric images must share one size (\(image.width)×\(image.height) vs \(first.width)×\(first.height))")
        }
        let scale = 255 / (peak ?? inferredPeak(images))
        return images.map { image in
            let n = image.planeSize
            var out = [Double](repeating: 0, count: n)
            let p = image.pixels
            if image.channels == 3 {
                for i in 0..<n { out[i] = (0.2989 * Double(p[i]) + 0.5870 * Double(p[n + i]) + 0.1140 * Double(p[2 * n + i])) * scale }
            } else {
                let inv = scale / Double(image.channels)
                for c in 0..<image.channels { for i in 0..<n { out[i] += Double(p[c * n + i]) * inv } }
            }
            for i in 0..<n where !out[i].isFinite { out[i] = 0 }
            return Grey(width: image.width, height: image.height, values: out)
        }
    }

    // MARK: Full-reference

    /// Peak signal-to-noise ratio in dB of `x` against `reference` over all channels, in the
    /// images' own scale (`peak` = 255 for 8-bit, 65535 for 16-bit). `infinity` when identical.
    public static func psnr(_ x: Image, reference: Image, peak: Double) -> Double {
        precondition(x.pixels.count == reference.pixels.count, "PSNR needs images of one shape")
        var sum = 0.0
        for i in 0..<x.pixels.count {
            let d = Double(x.pixels[i]) - Double(reference.pixels[i])
            sum += d * d
        }
        let mse = sum / Double(x.pixels.count)
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    /// PSNR after a Gaussian blur of σ = `sigma` px of both images (each channel): the error of
    /// focus selection with pixel noise mostly averaged out.
    public static func psnrAfterBlur(_ x: Image, reference: Image, peak: Double, sigma: Double = 1) -> Double {
        psnr(blurred(x, sigma: sigma), reference: blurred(reference, sigma: sigma), peak: peak)
    }

    static func blurred(_ image: Image, sigma: Double) -> Image {
        let taps = FocusEvidence.gaussianTaps(sigma: sigma)
        var out = image
        let n = image.planeSize
        for c in 0..<image.channels {
            let b = image.plane(c).convolved(taps)
            for i in 0..<n { out.pixels[c * n + i] = b.values[i] }
        }
        return out
    }

    /// Mean SSIM (Wang et al. 2004: 11×11 Gaussian window σ 1.5, K = 0.01/0.03, L = 255, valid
    /// region) on grey 0…255.
    public static func ssim(_ x: Image, reference: Image, peak: Double? = nil) -> Double {
        let g = grey([x, reference], peak: peak)
        let map = ssimMap(g[0], g[1], window: 11, sigma: 1.5)
        return map.map.reduce(0, +) / Double(map.map.count)
    }

    // MARK: Shared filters

    /// Normalised 1-D Gaussian of `size` taps.
    static func gaussianTaps(size: Int, sigma: Double) -> [Double] {
        let r = size / 2
        let taps = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }

    /// Separable correlation: 'valid' (output shrinks by the kernel) or 'same' with zero padding.
    static func filter(_ g: Grey, _ taps: [Double], valid: Bool) -> Grey {
        let r = taps.count / 2
        let w = g.width, h = g.height
        // Rows zero-padded by r on both sides, so the inner loop needs no bounds checks.
        let pw = w + 2 * r
        var padded = [Double](repeating: 0, count: pw)
        var tmp = [Double](repeating: 0, count: w * h)
        g.values.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                padded.withUnsafeMutableBufferPointer { row in
                    taps.withUnsafeBufferPointer { t in
                        for y in 0..<h {
                            for x in 0..<w { row[r + x] = src[y * w + x] }
                            for x in 0..<w {
                                var s = 0.0
                                for k in 0..<t.count { s += t[k] * row[x + k] }
                                dst[y * w + x] = s
                            }
                        }
                    }
                }
            }
        }
        var out = [Double](repeating: 0, count: w * h)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for k in 0..<taps.count {
                        let yy = y + k - r
                        if yy < 0 || yy >= h { continue }
                        let t = taps[k]
                        for x in 0..<w { dst[y * w + x] += t * src[yy * w + x] }
                    }
                }
            }
        }
        let same = Grey(width: w, height: h, values: out)
        guard valid else { return same }
        let vw = max(1, w - 2 * r), vh = max(1, h - 2 * r)
        var cropped = [Double](repeating: 0, count: vw * vh)
        for y in 0..<vh { for x in 0..<vw { cropped[y * vw + x] = same[min(w - 1, x + r), min(h - 1, y + r)] } }
        return Grey(width: vw, height: vh, values: cropped)
    }

    /// SSIM map (valid region) with a Gaussian window, and the local variances of both inputs.
    static func ssimMap(_ a: Grey, _ b: Grey, window: Int, sigma: Double)
        -> (map: [Double], varianceA: [Double], varianceB: [Double]) {
        let taps = gaussianTaps(size: window, sigma: sigma)
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        func product(_ p: Grey, _ q: Grey) -> Grey {
            Grey(width: p.width, height: p.height, values: zip(p.values, q.values).map { (x: Double, y: Double) in x * y })
        }
        let muA = filter(a, taps, valid: true), muB = filter(b, taps, valid: true)
        let aa = filter(product(a, a), taps, valid: true), bb = filter(product(b, b), taps, valid: true)
        let ab = filter(product(a, b), taps, valid: true)
        var map = [Double](repeating: 0, count: muA.values.count)
        var va = map, vb = map
        for i in 0..<map.count {
            let ma = muA.values[i], mb = muB.values[i]
            let sa = aa.values[i] - ma * ma, sb = bb.values[i] - mb * mb, sab = ab.values[i] - ma * mb
            va[i] = sa
            vb[i] = sb
            map[i] = ((2 * ma * mb + c1) * (2 * sab + c2)) / ((ma * ma + mb * mb + c1) * (sa + sb + c2))
        }
        return (map, va, vb)
    }
}
