import Imaging

/// Operations on one image plane: `[Float]` of `width × height`, row-major.
/// Borders are reflected without repeating the edge pixel (…, 2, 1 | 0, 1, 2, … ).
struct Plane {
    let width: Int
    let height: Int
    var values: [Float]

    init(width: Int, height: Int, values: [Float]) {
        precondition(values.count == width * height, "plane size mismatch")
        self.width = width
        self.height = height
        self.values = values
    }

    init(width: Int, height: Int, repeating value: Float = 0) {
        self.init(width: width, height: height, values: [Float](repeating: value, count: width * height))
    }

    var count: Int { width * height }
}

/// Reflects an index into 0..<n (no edge repeat); works for any offset.
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let period = 2 * (n - 1)
    var m = i % period
    if m < 0 { m += period }
    return m < n ? m : period - m
}

extension Plane {
    /// Sum over the (2r+1)² window, truncated at the borders (only pixels inside the image count).
    func boxSum(radius r: Int) -> Plane {
        if r == 0 { return self }
        let w = width, h = height
        // Horizontal running sums, then vertical.
        var horizontal = [Float](repeating: 0, count: count)
        values.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w
                    var prefix = [Double](repeating: 0, count: w + 1)
                    for x in 0..<w { prefix[x + 1] = prefix[x] + Double(src[row + x]) }
                    for x in 0..<w {
                        let lo = max(0, x - r), hi = min(w - 1, x + r)
                        dst[row + x] = Float(prefix[hi + 1] - prefix[lo])
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: count)
        horizontal.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var prefix = [Double](repeating: 0, count: (h + 1) * w)
                for y in 0..<h {
                    for x in 0..<w { prefix[(y + 1) * w + x] = prefix[y * w + x] + Double(src[y * w + x]) }
                }
                for y in 0..<h {
                    let lo = max(0, y - r), hi = min(h - 1, y + r)
                    for x in 0..<w { dst[y * w + x] = Float(prefix[(hi + 1) * w + x] - prefix[lo * w + x]) }
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// Mean over the (2r+1)² window, truncated at the borders.
    func boxMean(radius r: Int) -> Plane {
        if r == 0 { return self }
        let sums = boxSum(radius: r)
        var out = sums.values
        for y in 0..<height {
            let ny = min(height - 1, y + r) - max(0, y - r) + 1
            for x in 0..<width {
                let nx = min(width - 1, x + r) - max(0, x - r) + 1
                out[y * width + x] /= Float(nx * ny)
            }
        }
        return Plane(width: width, height: height, values: out)
    }

    /// Separable correlation with a symmetric odd-length kernel, reflected borders.
    func convolved(_ kernel: [Float]) -> Plane {
        let r = kernel.count / 2
        let w = width, h = height
        var tmp = [Float](repeating: 0, count: count)
        values.withUnsafeBufferPointer { src in
            tmp.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let row = y * w
                    for x in 0..<w {
                        var s: Float = 0
                        if x >= r && x + r < w {
                            for k in 0..<kernel.count { s += kernel[k] * src[row + x + k - r] }
                        } else {
                            for k in 0..<kernel.count { s += kernel[k] * src[row + reflectIndex(x + k - r, w)] }
                        }
                        dst[row + x] = s
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: count)
        tmp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    for k in 0..<kernel.count {
                        let yy = reflectIndex(y + k - r, h)
                        let kv = kernel[k]
                        for x in 0..<w { dst[y * w + x] += kv * src[yy * w + x] }
                    }
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// The 4-neighbour Laplacian (reflected borders).
    func laplacian() -> Plane {
        let w = width, h = height
        var out = [Float](repeating: 0, count: count)
        values.withUnsafeBufferPointer { p in
            for y in 0..<h {
                let up = reflectIndex(y - 1, h) * w, down = reflectIndex(y + 1, h) * w, row = y * w
                for x in 0..<w {
                    let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                    out[row + x] = p[up + x] + p[down + x] + p[row + l] + p[row + r] - 4 * p[row + x]
                }
            }
        }
        return Plane(width: w, height: h, values: out)
    }

    /// He et al.'s guided filter of `self` with `guide`, box radius `r`, regularisation `epsilon`.
    func guidedFiltered(guide: Plane, radius r: Int, epsilon: Float) -> Plane {
        precondition(guide.width == width && guide.height == height)
        let meanI = guide.boxMean(radius: r)
        let meanP = boxMean(radius: r)
        var ip = [Float](repeating: 0, count: count), ii = [Float](repeating: 0, count: count)
        for i in 0..<count {
            ip[i] = guide.values[i] * values[i]
            ii[i] = guide.values[i] * guide.values[i]
        }
        let meanIP = Plane(width: width, height: height, values: ip).boxMean(radius: r)
        let meanII = Plane(width: width, height: height, values: ii).boxMean(radius: r)
        var a = [Float](repeating: 0, count: count), b = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let cov = meanIP.values[i] - meanI.values[i] * meanP.values[i]
            let variance = max(0, meanII.values[i] - meanI.values[i] * meanI.values[i])
            a[i] = cov / (variance + epsilon)
            b[i] = meanP.values[i] - a[i] * meanI.values[i]
        }
        let meanA = Plane(width: width, height: height, values: a).boxMean(radius: r)
        let meanB = Plane(width: width, height: height, values: b).boxMean(radius: r)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count { out[i] = meanA.values[i] * guide.values[i] + meanB.values[i] }
        return Plane(width: width, height: height, values: out)
    }
}

extension Image {
    /// Channel `c` as a plane.
    func plane(_ c: Int) -> Plane {
        let n = planeSize
        return Plane(width: width, height: height, values: Array(pixels[(c * n)..<((c + 1) * n)]))
    }

    /// Luminance (``Imaging/Image/luminanceImage()``) as a plane. Keeps the value scale.
    func luminance() -> Plane {
        Plane(width: width, height: height, values: luminanceImage().pixels)
    }

    /// Pads on the right and bottom by reflection to `width` × `height` ≥ the current size.
    func reflectPadded(width pw: Int, height ph: Int) -> Image {
        if pw == width && ph == height { return self }
        var out = [Float](repeating: 0, count: pw * ph * channels)
        for c in 0..<channels {
            for y in 0..<ph {
                let sy = reflectIndex(y, height)
                for x in 0..<pw {
                    out[c * pw * ph + y * pw + x] = pixels[c * planeSize + sy * width + reflectIndex(x, width)]
                }
            }
        }
        return Image(width: pw, height: ph, channels: channels, pixels: out)
    }

    /// "W×H×C" for messages.
    var shapeDescription: String { "\(width)×\(height)×\(channels)" }
}
