import Foundation

/// Defocus point-spread functions applied to planes (row-major `[Float]`, `width`×`height`),
/// borders reflected.
enum DefocusBlur {
    /// Gaussian blur of standard deviation `sigma` pixels: an exact separable kernel up to
    /// σ = 4, three successive box filters of matched variance above (the standard fast
    /// approximation, within 3 % of the Gaussian everywhere).
    static func gaussian(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        if sigma < 0.05 { return plane }
        if sigma <= 4 {
            let radius = Int((3 * sigma).rounded(.up))
            var kernel = (-radius...radius).map { Float(exp(-0.5 * Double($0 * $0) / (sigma * sigma))) }
            let sum = kernel.reduce(0, +)
            kernel = kernel.map { $0 / sum }
            return separable(plane, width: width, height: height, kernel: kernel)
        }
        // Three boxes of width w have variance 3·(w² − 1)/12 = σ² → w = √(4σ² + 1).
        let boxWidth = max(1, Int((4 * sigma * sigma + 1).squareRoot().rounded()) | 1)
        let kernel = [Float](repeating: 1 / Float(boxWidth), count: boxWidth)
        var out = plane
        for _ in 0..<3 { out = separable(out, width: width, height: height, kernel: kernel) }
        return out
    }

    /// Brightfield defocus: a uniform disc of radius `radius` pixels with a soft edge (the disc's
    /// indicator convolved with a Gaussian of σ = `edge`), normalised to unit sum.
    static func softDisc(_ plane: [Float], width: Int, height: Int, radius: Double, edge: Double = 0.5) -> [Float] {
        if radius < 0.5 { return gaussian(plane, width: width, height: height, sigma: max(edge, 0.3)) }
        let r = Int((radius + 2 * edge).rounded(.up))
        var taps: [(dx: Int, dy: Int, w: Float)] = []
        var total: Float = 0
        for dy in -r...r {
            for dx in -r...r {
                let d = (Double(dx * dx + dy * dy)).squareRoot()
                // Soft edge: a logistic step of width `edge` at the rim.
                let w = Float(1 / (1 + exp((d - radius) / max(edge, 1e-3))))
                if w > 1e-3 { taps.append((dx, dy, w)); total += w }
            }
        }
        var out = [Float](repeating: 0, count: plane.count)
        plane.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (dx, dy, w) in taps {
                    let weight = w / total
                    for y in 0..<height {
                        let sy = reflect(y + dy, height) * width
                        let row = y * width
                        if dx >= 0 {
                            let inner = max(0, width - dx)
                            for x in 0..<inner { dst[row + x] += weight * src[sy + x + dx] }
                            for x in inner..<width { dst[row + x] += weight * src[sy + reflect(x + dx, width)] }
                        } else {
                            let start = min(width, -dx)
                            for x in 0..<start { dst[row + x] += weight * src[sy + reflect(x + dx, width)] }
                            for x in start..<width { dst[row + x] += weight * src[sy + x + dx] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Convolves rows, then columns, with a symmetric odd kernel.
    static func separable(_ plane: [Float], width: Int, height: Int, kernel: [Float]) -> [Float] {
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
    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        var m = i % period
        if m < 0 { m += period }
        return m < n ? m : period - m
    }
}
