import Foundation
import FusionDiff
import Imaging
import SeededRandom

/// A synthetic fluorescence-like focus stack for the demo and smoke tests: bright blobs and fibres
/// on a dark field (16-bit), a tilted specimen so each slice is sharp in a different band, and
/// defocus growing with the distance from each slice's focal plane.
enum SampleStack {
    /// Slices of `width`×`height`, uint16 values.
    static func make(width: Int = 256, height: Int = 256, slices: Int = 5, seed: UInt64 = 7) -> [Image] {
        var rng = SplitMix64(seed: seed)
        var sharp = [Float](repeating: 400, count: width * height)
        // Blobs ("nuclei") of random size and brightness.
        for _ in 0..<60 {
            let cx = Float(rng.uniform() * Double(width)), cy = Float(rng.uniform() * Double(height))
            let r = Float(2 + rng.uniform() * 7), a = Float(4000 + rng.uniform() * 20000)
            let x0 = max(0, Int(cx - 3 * r)), x1 = min(width - 1, Int(cx + 3 * r))
            let y0 = max(0, Int(cy - 3 * r)), y1 = min(height - 1, Int(cy + 3 * r))
            if x0 > x1 || y0 > y1 { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let d2 = (Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)
                    sharp[y * width + x] += a * exp(-d2 / (2 * r * r))
                }
            }
        }
        // Thin fibres: random walks.
        for _ in 0..<25 {
            var x = rng.uniform() * Double(width), y = rng.uniform() * Double(height)
            var angle = rng.uniform() * 2 * Double.pi
            for _ in 0..<200 {
                angle += (rng.uniform() - 0.5) * 0.4
                x += cos(angle); y += sin(angle)
                let ix = Int(x), iy = Int(y)
                if ix < 0 || iy < 0 || ix >= width || iy >= height { break }
                sharp[iy * width + ix] += 9000
            }
        }
        // Depth rises from left to right across the slices' focal planes.
        var result: [Image] = []
        let blurLevels = (0..<6).map { level in blur(sharp, width: width, height: height, radius: level * 2) }
        for s in 0..<slices {
            var pixels = [Float](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    let depth = Float(x) / Float(width - 1) * Float(slices - 1)
                    let level = min(blurLevels.count - 1, Int((abs(depth - Float(s)) * 2).rounded()))
                    let noise = Float(GaussianNoise.next(using: &rng)) * 60
                    pixels[y * width + x] = min(65535, max(0, (blurLevels[level][y * width + x] + noise).rounded()))
                }
            }
            result.append(Image(width: width, height: height, channels: 1, pixels: pixels))
        }
        return result
    }

    /// Box blur applied three times (≈ Gaussian), radius in pixels.
    private static func blur(_ input: [Float], width: Int, height: Int, radius: Int) -> [Float] {
        guard radius > 0 else { return input }
        var a = input
        for _ in 0..<3 {
            a = boxPass(a, width: width, height: height, radius: radius, horizontal: true)
            a = boxPass(a, width: width, height: height, radius: radius, horizontal: false)
        }
        return a
    }

    private static func boxPass(_ input: [Float], width: Int, height: Int, radius: Int, horizontal: Bool) -> [Float] {
        var out = input
        let lines = horizontal ? height : width, length = horizontal ? width : height
        for line in 0..<lines {
            func index(_ i: Int) -> Int {
                let c = min(max(i, 0), length - 1)
                return horizontal ? line * width + c : c * width + line
            }
            var sum: Float = 0
            for i in -radius...radius { sum += input[index(i)] }
            for i in 0..<length {
                out[index(i)] = sum / Float(2 * radius + 1)
                sum += input[index(i + radius + 1)] - input[index(i - radius)]
            }
        }
        return out
    }
}
