import Foundation

/// Gaussian blurs of one plane (row-major `[Float]`, `width`×`height`), borders reflected
/// (…2 1 0 1 2…): the simulator's defocus PSF and the alignment's rendering of defocus share them.
public enum PlaneBlur {
    /// Gaussian blur of standard deviation `sigma` pixels: an exact separable kernel up to
    /// σ = 4, three successive box filters of matched variance above (the standard fast
    /// approximation, within 3 % of the Gaussian everywhere). Each box is a direct convolution,
    /// so results are bit-for-bit those the simulator has always produced.
    public static func gaussian(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        if sigma < 0.05 { return plane }
        if sigma <= 4 { return separable(plane, width: width, height: height, kernel: gaussianTaps(sigma: sigma)) }
        let boxWidth = matchedBoxWidth(sigma: sigma)
        let kernel = [Float](repeating: 1 / Float(boxWidth), count: boxWidth)
        var out = plane
        for _ in 0..<3 { out = separable(out, width: width, height: height, kernel: kernel) }
        return out
    }

    /// The same blur with the three boxes as running sums: cost independent of σ (the exact
    /// kernel below σ = 4 is unchanged). Differs from `gaussian` only by rounding.
    public static func fastGaussian(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        if sigma <= 4 { return gaussian(plane, width: width, height: height, sigma: sigma) }
        let radius = matchedBoxWidth(sigma: sigma) / 2
        var out = plane
        for _ in 0..<3 { out = boxMean(out, width: width, height: height, radius: radius) }
        return out
    }

    /// Mean over the `(2·radius + 1)²` window around each pixel (running sums in `Double`).
    public static func boxMean(_ plane: [Float], width: Int, height: Int, radius: Int) -> [Float] {
        guard radius > 0 else { return plane }
        let size = 2 * radius + 1
        let norm = 1 / Double(size)
        var tmp = [Float](repeating: 0, count: plane.count)
        var out = [Float](repeating: 0, count: plane.count)
        plane.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width
                    var sum = 0.0
                    for k in -radius...radius { sum += Double(src[row + reflect(k, width)]) }
                    for x in 0..<width {
                        dst[row + x] = Float(sum * norm)
                        sum += Double(src[row + reflect(x + radius + 1, width)]) - Double(src[row + reflect(x - radius, width)])
                    }
                }
            }
        }
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var sums = [Double](repeating: 0, count: width)
                for k in -radius...radius {
                    let row = reflect(k, height) * width
                    for x in 0..<width { sums[x] += Double(src[row + x]) }
                }
                for y in 0..<height {
                    let row = y * width
                    let enter = reflect(y + radius + 1, height) * width, leave = reflect(y - radius, height) * width
                    for x in 0..<width {
                        dst[row + x] = Float(sums[x] * norm)
                        sums[x] += Double(src[enter + x]) - Double(src[leave + x])
                    }
                }
            }
        }
        return out
    }

    /// Normalised 1-D Gaussian taps of radius ⌈3σ⌉.
    public static func gaussianTaps(sigma: Double) -> [Float] {
        let radius = Int((3 * sigma).rounded(.up))
        let kernel = (-radius...radius).map { Float(exp(-0.5 * Double($0 * $0) / (sigma * sigma))) }
        let sum = kernel.reduce(0, +)
        return kernel.map { $0 / sum }
    }

    /// Width of the box whose three-fold repetition has variance σ²: 3·(w² − 1)/12 = σ² → w = √(4σ² + 1), odd.
    static func matchedBoxWidth(sigma: Double) -> Int {
        max(1, Int((4 * sigma * sigma + 1).squareRoot().rounded()) | 1)
    }

    /// Convolves rows, then columns, with a symmetric odd kernel.
    public static func separable(_ plane: [Float], width: Int, height: Int, kernel: [Float]) -> [Float] {
        let r = kernel.count / 2
        var tmp = [Float](repeating: 0, count: plane.count)
        var out = [Float](repeating: 0, count: plane.count)
        plane.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let row = y * width
                    for x in 0..<width {
                        var s: Float = 0
                        if x >= r && x + r < width {
                            for k in 0..<kernel.count { s += kernel[k] * src[row + x - r + k] }
                        } else {
                            for k in 0..<kernel.count { s += kernel[k] * src[row + reflect(x - r + k, width)] }
                        }
                        dst[row + x] = s
                    }
                }
            }
        }
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    for k in 0..<kernel.count {
                        let sy = reflect(y - r + k, height) * width, w = kernel[k]
                        let row = y * width
                        for x in 0..<width { dst[row + x] += w * src[sy + x] }
                    }
                }
            }
        }
        return out
    }

    /// Mirror index into 0..<n (…2 1 0 1 2…), for any offset.
    @inline(__always) public static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - m
    }
}
