import Foundation
import Imaging

extension PairwiseEngine {
    func validateTiling() throws {
        guard tiling.size >= 0, tiling.overlap >= 0 else {
            throw FusionError.invalidOptions("tile size \(tiling.size) and overlap \(tiling.overlap) must be ≥ 0")
        }
        if tiling.size > 0 && tiling.size <= tiling.overlap {
            throw FusionError.invalidOptions("tile size \(tiling.size) must exceed the overlap \(tiling.overlap)")
        }
    }

    /// Runs the generator on the whole pair, or tile by tile with overlapping tiles blended by a
    /// raised cosine (normalised by the summed weights, so the blend is a partition of unity).
    func generateTiled(_ a: Image, _ b: Image) throws -> Image {
        let size = tiling.size
        if size == 0 || (a.width <= size && a.height <= size) { return try generatePadded(a, b) }
        let xs = Self.tileStarts(length: a.width, size: size, overlap: tiling.overlap)
        let ys = Self.tileStarts(length: a.height, size: size, overlap: tiling.overlap)
        let tw = min(size, a.width), th = min(size, a.height)
        let wx = Self.rampWeights(starts: xs, size: tw, length: a.width)
        let wy = Self.rampWeights(starts: ys, size: th, length: a.height)
        let channels = generator.channels
        var sum = [Float](repeating: 0, count: a.planeSize * channels)
        var total = [Float](repeating: 0, count: a.planeSize)
        for (j, y0) in ys.enumerated() {
            for (i, x0) in xs.enumerated() {
                let tile = try generatePadded(a.cropped(x0: x0, y0: y0, width: tw, height: th),
                                              b.cropped(x0: x0, y0: y0, width: tw, height: th))
                for y in 0..<th {
                    for x in 0..<tw {
                        let weight = wx[i][x] * wy[j][y]
                        let p = (y0 + y) * a.width + x0 + x
                        total[p] += weight
                        for c in 0..<channels {
                            sum[c * a.planeSize + p] += weight * tile.pixels[c * tw * th + y * tw + x]
                        }
                    }
                }
            }
        }
        for c in 0..<channels { for p in 0..<a.planeSize { sum[c * a.planeSize + p] /= total[p] } }
        return Image(width: a.width, height: a.height, channels: channels, pixels: sum)
    }

    /// Pads by reflection to a multiple of `sizeMultiple`, generates, checks the shape, crops.
    func generatePadded(_ a: Image, _ b: Image) throws -> Image {
        let m = max(1, generator.sizeMultiple)
        let pw = (a.width + m - 1) / m * m, ph = (a.height + m - 1) / m * m
        let out = try generator.generate(a.reflectPadded(width: pw, height: ph), b.reflectPadded(width: pw, height: ph))
        guard out.width == pw, out.height == ph, out.channels == generator.channels else {
            throw FusionError.generatorOutputMismatch(expected: "\(pw)×\(ph)×\(generator.channels)",
                                                      actual: out.shapeDescription)
        }
        return out.cropped(x0: 0, y0: 0, width: a.width, height: a.height)
    }

    /// Tile origins along one axis: stride `size − overlap`, the last tile flush with the end.
    static func tileStarts(length: Int, size: Int, overlap: Int) -> [Int] {
        if length <= size { return [0] }
        var starts: [Int] = []
        var p = 0
        while p + size < length {
            starts.append(p)
            p += size - overlap
        }
        starts.append(length - size)
        return starts
    }

    /// Per-tile 1-D weights: a raised cosine across each overlap with a neighbour, 1 elsewhere.
    static func rampWeights(starts: [Int], size: Int, length: Int) -> [[Float]] {
        starts.indices.map { t in
            var w = [Float](repeating: 1, count: size)
            if t > 0 {
                let overlap = starts[t - 1] + size - starts[t]
                for d in 0..<min(overlap, size) {
                    w[d] *= Float(0.5 - 0.5 * cos(Double.pi * (Double(d) + 0.5) / Double(overlap)))
                }
            }
            if t + 1 < starts.count {
                let overlap = starts[t] + size - starts[t + 1]
                for d in 0..<min(overlap, size) {
                    w[size - 1 - d] *= Float(0.5 - 0.5 * cos(Double.pi * (Double(d) + 0.5) / Double(overlap)))
                }
            }
            return w
        }
    }
}
