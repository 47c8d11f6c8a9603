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
