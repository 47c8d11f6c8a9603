import Imaging

/// A one-channel `Float` image: `data[y * width + x]`.
struct Plane: Sendable {
    let width: Int
    let height: Int
    var data: [Float]

    init(width: Int, height: Int, data: [Float]) {
        precondition(data.count == width * height)
        self.width = width
        self.height = height
        self.data = data
    }

    /// Mean and standard deviation over all pixels.
    var meanAndDeviation: (mean: Double, deviation: Double) {
        var s = 0.0, ss = 0.0
        for v in data { let d = Double(v); s += d; ss += d * d }
        let n = Double(data.count)
        let mean = s / n
        return (mean, max(ss / n - mean * mean, 0).squareRoot())
    }
}

/// The luminance of a slice and its successive halvings, finest first.
///
/// Level `k` pixel `x_k` sits at level-0 position `x_0 = 2^k·x_k + (2^k − 1)/2` (each halving
/// filters with the binomial kernel [1 3 3 1]/8 centred between two pixels and drops an odd last
/// row or column), so centred coordinates scale exactly by 2^k between levels.
struct LuminancePyramid: Sendable {
    /// `levels[0]` is full resolution.
    let levels: [Plane]

    /// Builds levels 0…`coarsest` from an image's luminance (BT.601 weights for 3 channels, the
    /// mean of the channels otherwise).
    init(image: Image, coarsest: Int) {
        var levels = [LuminancePyramid.luminance(of: image)]
        for _ in 0..<coarsest {
            levels.append(LuminancePyramid.halve(levels[levels.count - 1]))
        }
        self.levels = levels
    }

    init(levels: [Plane]) {
        self.levels = levels
    }

    /// The luminance plane of `image`.
    static func luminance(of image: Image) -> Plane {
        let n = image.planeSize
        var out = [Float](repeating: 0, count: n)
        let weights: [Float] = image.channels == 3 ? [0.299, 0.587, 0.114]
            : [Float](repeating: 1 / Float(image.channels), count: image.channels)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if image.channels == 1 {
                    _ = dst.initialize(from: src)
                    return
                }
                let s = SharedReadPointer(base: src.baseAddress!), d = SharedPointer(base: dst.baseAddress!)
                let channels = image.channels
                let chunks = Parallel.chunkCount(rows: image.height, rowCost: image.width * channels)
                Parallel.run(chunks: chunks) { chunk in
                    let rows = Parallel.range(chunk: chunk, of: chunks, total: image.height)
                    let lo = rows.lowerBound * image.width, hi = rows.upperBound * image.width
                    for i in lo..<hi { d.base[i] = weights[0] * s.base[i] }
                    for c in 1..<channels {
                        let w = weights[c], plane = s.base + c * n
                        for i in lo..<hi { d.base[i] += w * plane[i] }
                    }
                }
            }
        }
        return Plane(width: image.width, height: image.height, data: out)
    }

    /// Halves a plane: binomial [1 3 3 1]/8 filter in x and y, sampled between pixel pairs,
    /// clamped at the borders. Output size `⌊w/2⌋ × ⌊h/2⌋` (at least 1).
    static func halve(_ plane: Plane) -> Plane {
        let w = plane.width, h = plane.height
        let ow = max(1, w / 2), oh = max(1, h / 2)
        var horizontal = [Float](repeating: 0, count: ow * h)  // [h, ow]
        var out = [Float](repeating: 0, count: ow * oh)
        plane.data.withUnsafeBufferPointer { srcBuffer in
            horizontal.withUnsafeMutableBufferPointer { tmpBuffer in
                let src = SharedReadPointer(base: srcBuffer.baseAddress!), tmp = SharedPointer(base: tmpBuffer.baseAddress!)
                let chunks = Parallel.chunkCount(rows: h, rowCost: w)
                Parallel.run(chunks: chunks) { chunk in
                    for y in Parallel.range(chunk: chunk, of: chunks, total: h) {
                        let row = src.base + y * w, dst = tmp.base + y * ow
                        for x in 0..<ow {
                            let x0 = 2 * x
                            let a = row[max(x0 - 1, 0)], b = row[x0], c = row[min(x0 + 1, w - 1)], d = row[min(x0 + 2, w - 1)]
                            dst[x] = (a + 3 * b + 3 * c + d) * 0.125
                        }
                    }
                }
            }
        }
        horizontal.withUnsafeBufferPointer { tmpBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                let tmp = SharedReadPointer(base: tmpBuffer.baseAddress!), dst = SharedPointer(base: outBuffer.baseAddress!)
                let chunks = Parallel.chunkCount(rows: oh, rowCost: 2 * ow)
                Parallel.run(chunks: chunks) { chunk in
                    for y in Parallel.range(chunk: chunk, of: chunks, total: oh) {
                        let y0 = 2 * y
                        let ra = tmp.base + max(y0 - 1, 0) * ow, rb = tmp.base + y0 * ow
                        let rc = tmp.base + min(y0 + 1, h - 1) * ow, rd = tmp.base + min(y0 + 2, h - 1) * ow
                        let o = dst.base + y * ow
                        for x in 0..<ow {
                            o[x] = (ra[x] + 3 * rb[x] + 3 * rc[x] + rd[x]) * 0.125
                        }
                    }
                }
            }
        }
        return Plane(width: ow, height: oh, data: out)
    }
}
