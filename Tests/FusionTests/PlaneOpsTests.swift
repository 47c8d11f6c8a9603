import Imaging
import NN
import SeededRandom
import Testing
@testable import Fusion

/// The vectorised plane operations (issue 21) against their scalar definitions — the code they
/// replaced, kept here as the reference — bit for bit, on sizes that exercise the borders, the
/// vector remainders and images smaller than the windows, and on 1 and 3 threads.
@Suite("Plane operations, bit-identical to their scalar definitions")
struct PlaneOpsTests {
    static let sizes: [(width: Int, height: Int)] = [(1, 1), (1, 9), (9, 1), (2, 2), (5, 3), (17, 11), (33, 40), (64, 19)]

    static func plane(_ width: Int, _ height: Int, seed: UInt64, scale: Float = 1000) -> Plane {
        var random = SplitMix64(seed: seed)
        var p = Plane(width: width, height: height)
        for i in 0..<p.count { p.values[i] = (random.uniformFloat() - 0.3) * scale }
        return p
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    @Test("box sum and box mean", arguments: [1, 2, 4, 7, 20])
    func box(radius: Int) {
        for (w, h) in Self.sizes {
            let p = Self.plane(w, h, seed: UInt64(w * 100 + h))
            #expect(Self.bits(p.boxSum(radius: radius).values) == Self.bits(Reference.boxSum(p, radius: radius).values), "\(w)×\(h)")
            #expect(Self.bits(p.boxMean(radius: radius).values) == Self.bits(Reference.boxMean(p, radius: radius).values), "\(w)×\(h)")
        }
    }

    @Test("separable correlation", arguments: [[Float(1)], [0.25, 0.5, 0.25], FocusEvidence.gaussianTaps(sigma: 1),
                                               FocusEvidence.gaussianTaps(sigma: 2.5)])
    func correlation(kernel: [Float]) {
        for (w, h) in Self.sizes {
            let p = Self.plane(w, h, seed: UInt64(w * 7 + h))
            #expect(Self.bits(p.convolved(kernel).values) == Self.bits(Reference.convolved(p, kernel).values), "\(w)×\(h)")
        }
    }

    @Test("Laplacian, focus evidence, noise variance")
    func stencils() {
        let measure = FocusEvidence(sigma: 1, window: 9)
        for (w, h) in Self.sizes {
            let p = Self.plane(w, h, seed: UInt64(w * 13 + h))
            #expect(Self.bits(p.laplacian().values) == Self.bits(Reference.laplacian(p).values), "\(w)×\(h)")
            var squared = Reference.laplacian(Reference.convolved(p, FocusEvidence.gaussianTaps(sigma: 1)))
            for i in 0..<squared.count { squared.values[i] *= squared.values[i] }
            #expect(Self.bits(measure.evidence(p).values) == Self.bits(Reference.boxMean(squared, radius: 4).values), "\(w)×\(h)")
            #expect(Self.bits(FocusEvidence.noiseVariance(p).values) == Self.bits(Reference.noiseVariance(p).values), "\(w)×\(h)")
        }
    }

    @Test("median of slice indices", arguments: [1, 2], [1, 3])
    func median(radius: Int, threads: Int) {
        for (w, h) in Self.sizes {
            var random = SplitMix64(seed: UInt64(w * 31 + h))
            let p = Plane(width: w, height: h, values: (0..<(w * h)).map { _ in Float(Int.random(in: -1...12, using: &random)) })
            let filtered = Compute.withThreads(threads) { p.medianFiltered(radius: radius, levels: 10) }
            #expect(filtered.values == Reference.medianFiltered(p, radius: radius, levels: 10).values, "\(w)×\(h)")
        }
    }

    @Test("normalised to the generator's range, non-finite values included")
    func normalised() {
        var p = Self.plane(37, 5, seed: 4)
        p.values[3] = .nan
        p.values[20] = .infinity
        p.values[21] = -.infinity
        p.values[30] = -0.0
        let range = StackRange(minimum: -100, maximum: 400)
        let image = Image(width: 37, height: 5, channels: 1, pixels: p.values)
        #expect(Self.bits(range.normalised(image).pixels) == Self.bits(Reference.normalised(image, range)))
    }

    @Test("box downsampling", arguments: [2, 3])
    func downsampled(factor: Int) {
        for (w, h) in Self.sizes where w >= factor && h >= factor {
            let image = Image(width: w, height: h, channels: 2, pixels: Self.plane(w, 2 * h, seed: 9).values)
            #expect(Self.bits(image.boxDownsampled(factor).pixels) == Self.bits(Reference.boxDownsampled(image, factor)), "\(w)×\(h)")
        }
    }
}

/// The scalar definitions the vectorised operations replaced (issue 21), unchanged.
enum Reference {
    static func boxSum(_ p: Plane, radius r: Int) -> Plane {
        if r == 0 { return p }
        let w = p.width, h = p.height
        var horizontal = [Float](repeating: 0, count: p.count)
        for y in 0..<h {
            let row = y * w
            var prefix = [Double](repeating: 0, count: w + 1)
            for x in 0..<w { prefix[x + 1] = prefix[x] + Double(p.values[row + x]) }
            for x in 0..<w {
                let lo = max(0, x - r), hi = min(w - 1, x + r)
                horizontal[row + x] = Float(prefix[hi + 1] - prefix[lo])
            }
        }
        var out = [Float](repeating: 0, count: p.count)
        var prefix = [Double](repeating: 0, count: (h + 1) * w)
        for y in 0..<h {
            for x in 0..<w { prefix[(y + 1) * w + x] = prefix[y * w + x] + Double(horizontal[y * w + x]) }
        }
        for y in 0..<h {
            let lo = max(0, y - r), hi = min(h - 1, y + r)
            for x in 0..<w { out[y * w + x] = Float(prefix[(hi + 1) * w + x] - prefix[lo * w + x]) }
        }
        return Plane(width: w, height: h, values: out)
    }

    static func boxMean(_ p: Plane, radius r: Int) -> Plane {
        if r == 0 { return p }
        var out = boxSum(p, radius: r)
        for y in 0..<p.height {
            let ny = min(p.height - 1, y + r) - max(0, y - r) + 1
            for x in 0..<p.width {
                let nx = min(p.width - 1, x + r) - max(0, x - r) + 1
                out.values[y * p.width + x] /= Float(nx * ny)
            }
        }
        return out
    }

    static func convolved(_ p: Plane, _ kernel: [Float]) -> Plane {
        let r = kernel.count / 2
        let w = p.width, h = p.height
        var tmp = [Float](repeating: 0, count: p.count)
        for y in 0..<h {
            for x in 0..<w {
                var s: Float = 0
                for k in 0..<kernel.count { s += kernel[k] * p.values[y * w + reflectIndex(x + k - r, w)] }
                tmp[y * w + x] = s
            }
        }
        var out = [Float](repeating: 0, count: p.count)
        for y in 0..<h {
            for k in 0..<kernel.count {
                let yy = reflectIndex(y + k - r, h)
                for x in 0..<w { out[y * w + x] += kernel[k] * tmp[yy * w + x] }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    static func laplacian(_ p: Plane) -> Plane {
        let w = p.width, h = p.height
        var out = [Float](repeating: 0, count: p.count)
        for y in 0..<h {
            let up = reflectIndex(y - 1, h) * w, down = reflectIndex(y + 1, h) * w, row = y * w
            for x in 0..<w {
                let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                out[row + x] = p.values[up + x] + p.values[down + x] + p.values[row + l] + p.values[row + r] - 4 * p.values[row + x]
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    static func noiseVariance(_ plane: Plane, radius: Int = 7) -> Plane {
        let w = plane.width, h = plane.height, p = plane.values
        var response = Plane(width: w, height: h)
        for y in 0..<h {
            let up = reflectIndex(y - 1, h) * w, down = reflectIndex(y + 1, h) * w, row = y * w
            for x in 0..<w {
                let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                let v = p[up + l] + p[up + r] + p[down + l] + p[down + r]
                    - 2 * (p[up + x] + p[down + x] + p[row + l] + p[row + r]) + 4 * p[row + x]
                response.values[row + x] = abs(v)
            }
        }
        var mean = boxMean(response, radius: radius)
        let k = Float((Double.pi / 2).squareRoot() / 6)
        for i in 0..<mean.count { let s = k * mean.values[i]; mean.values[i] = s * s }
        return mean
    }

    static func medianFiltered(_ p: Plane, radius r: Int, levels: Int) -> Plane {
        let w = p.width, h = p.height
        var out = p
        var counts = [Int32](repeating: 0, count: levels)
        for y in 0..<h {
            for x in 0..<w {
                for i in 0..<levels { counts[i] = 0 }
                var total: Int32 = 0
                for dy in -r...r {
                    let yy = reflectIndex(y + dy, h) * w
                    for dx in -r...r {
                        let v = Int(p.values[yy + reflectIndex(x + dx, w)])
                        counts[min(max(v, 0), levels - 1)] += 1
                        total += 1
                    }
                }
                var seen: Int32 = 0
                for i in 0..<levels {
                    seen += counts[i]
                    if 2 * seen > total { out.values[y * w + x] = Float(i); break }
                }
            }
        }
        return out
    }

    static func normalised(_ image: Image, _ range: StackRange) -> [Float] {
        let span = range.maximum - range.minimum
        let scale: Float = span > 0 ? 2 / span : 0
        return image.pixels.map { v in v.isFinite ? min(1, max(-1, (v - range.minimum) * scale - 1)) : -1 }
    }

    static func boxDownsampled(_ image: Image, _ factor: Int) -> [Float] {
        let w = (image.width + factor - 1) / factor, h = (image.height + factor - 1) / factor
        var out = [Float](repeating: 0, count: w * h * image.channels)
        var counts = [Float](repeating: 0, count: w * h)
        for y in 0..<image.height { for x in 0..<image.width { counts[(y / factor) * w + x / factor] += 1 } }
        for c in 0..<image.channels {
            for y in 0..<image.height {
                for x in 0..<image.width {
                    out[c * w * h + (y / factor) * w + x / factor] += image.pixels[c * image.planeSize + y * image.width + x]
                }
            }
            for i in 0..<(w * h) { out[c * w * h + i] /= counts[i] }
        }
        return out
    }
}
