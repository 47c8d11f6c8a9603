import Foundation
import Imaging

/// Defocus point-spread functions applied to planes (row-major `[Float]`, `width`×`height`),
/// borders reflected.
enum DefocusBlur {
    /// Gaussian blur of standard deviation `sigma` pixels (``PlaneBlur/gaussian(_:width:height:sigma:)``).
    static func gaussian(_ plane: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        PlaneBlur.gaussian(plane, width: width, height: height, sigma: sigma)
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

    @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int { PlaneBlur.reflect(i, n) }
}
