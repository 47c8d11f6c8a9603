import Foundation
import SeededRandom

/// The surface of a 2.5-D specimen: for every pixel the focal position (in slice units, 0…N−1)
/// at which it is in focus.
///
/// Made of a tilt, a few Gaussian bumps and dips and a few steep steps (a sigmoid across a random
/// line, like a cell edge or a tissue fold), rescaled so that it spans `span` of the stack's z range
/// around its middle. Smooth everywhere except across the steps.
public struct HeightMap: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Row-major heights in slice units.
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "a height map has one value per pixel")
        self.width = width
        self.height = height
        self.values = values
    }

    /// A random surface for a stack of `slices` slices.
    /// - Parameters:
    ///   - span: fraction of the z range (0…1) the surface covers, centred in the stack.
    ///   - steps: number of steep steps.
    static func random(width: Int, height: Int, slices: Int, span: Double, steps: Int,
                       using rng: inout SplitMix64) -> HeightMap {
        var field = [Double](repeating: 0, count: width * height)
        let size = Double(max(width, height))
        let angle = rng.uniform(0, 2 * Double.pi), tilt = rng.uniform(0.3, 1.0)
        var bumps: [(x: Double, y: Double, sigma: Double, amplitude: Double)] = []
        for _ in 0..<(2 + Int(rng.uniform(0, 3))) {
            bumps.append((rng.uniform(0, Double(width)), rng.uniform(0, Double(height)),
                          rng.uniform(0.1, 0.35) * size, rng.uniform(-0.8, 0.8)))
        }
        var edges: [(nx: Double, ny: Double, offset: Double, amplitude: Double, sharpness: Double)] = []
        for _ in 0..<steps {
            let a = rng.uniform(0, 2 * Double.pi)
            let nx = cos(a), ny = sin(a)
            let cx = rng.uniform(0.25, 0.75) * Double(width), cy = rng.uniform(0.25, 0.75) * Double(height)
            edges.append((nx, ny, nx * cx + ny * cy, rng.uniform(0.3, 0.6) * (rng.uniform() < 0.5 ? -1 : 1),
                          rng.uniform(0.5, 2.0)))
        }
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x), v = Double(y)
                var z = tilt * ((u - Double(width) / 2) * cos(angle) + (v - Double(height) / 2) * sin(angle)) / size
                for b in bumps {
                    let d2 = ((u - b.x) * (u - b.x) + (v - b.y) * (v - b.y)) / (b.sigma * b.sigma)
                    z += b.amplitude * exp(-0.5 * d2)
                }
                for e in edges {
                    let s = (e.nx * u + e.ny * v - e.offset) * e.sharpness
                    z += e.amplitude / (1 + exp(-s))
                }
                field[y * width + x] = z
            }
        }
        let lo = field.min() ?? 0, hi = field.max() ?? 1
        let range = Double(max(slices - 1, 0)) * min(max(span, 0), 1)
        let base = (Double(max(slices - 1, 0)) - range) / 2
        let scale = hi > lo ? range / (hi - lo) : 0
        return HeightMap(width: width, height: height, values: field.map { Float(base + ($0 - lo) * scale) })
    }
}
