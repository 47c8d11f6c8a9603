/// Keys cubic convolution (a = −0.5, "Catmull–Rom") weights for the four taps at offsets
/// −1, 0, 1, 2 around a sample at fractional position `t` ∈ [0, 1).
@inline(__always)
func cubicWeights(_ t: Float) -> (Float, Float, Float, Float) {
    let t2 = t * t, t3 = t2 * t
    let w0 = -0.5 * t3 + t2 - 0.5 * t
    let w1 = 1.5 * t3 - 2.5 * t2 + 1
    let w2 = -1.5 * t3 + 2 * t2 + 0.5 * t
    let w3 = 0.5 * t3 - 0.5 * t2
    return (w0, w1, w2, w3)
}

/// Bicubic sample of a `width × height` plane at pixel position `(x, y)`; taps beyond the border
/// repeat the edge pixel. The caller guarantees `(x, y)` is finite and not far outside the plane.
@inline(__always)
func sampleBicubic(_ p: UnsafePointer<Float>, width: Int, height: Int, x: Double, y: Double) -> Float {
    let fx = x.rounded(.down), fy = y.rounded(.down)
    let ix = Int(fx), iy = Int(fy)
    let (wx0, wx1, wx2, wx3) = cubicWeights(Float(x - fx))
    let (wy0, wy1, wy2, wy3) = cubicWeights(Float(y - fy))
    if ix >= 1 && iy >= 1 && ix + 2 < width && iy + 2 < height {
        var r = p + (iy - 1) * width + (ix - 1)
        let r0 = wx0 * r[0] + wx1 * r[1] + wx2 * r[2] + wx3 * r[3]; r += width
        let r1 = wx0 * r[0] + wx1 * r[1] + wx2 * r[2] + wx3 * r[3]; r += width
        let r2 = wx0 * r[0] + wx1 * r[1] + wx2 * r[2] + wx3 * r[3]; r += width
        let r3 = wx0 * r[0] + wx1 * r[1] + wx2 * r[2] + wx3 * r[3]
        return wy0 * r0 + wy1 * r1 + wy2 * r2 + wy3 * r3
    }
    let maxX = width - 1, maxY = height - 1
    let x0 = min(max(ix - 1, 0), maxX), x1 = min(max(ix, 0), maxX)
    let x2 = min(max(ix + 1, 0), maxX), x3 = min(max(ix + 2, 0), maxX)
    let y0 = min(max(iy - 1, 0), maxY) * width, y1 = min(max(iy, 0), maxY) * width
    let y2 = min(max(iy + 1, 0), maxY) * width, y3 = min(max(iy + 2, 0), maxY) * width
    let r0 = wx0 * p[y0 + x0] + wx1 * p[y0 + x1] + wx2 * p[y0 + x2] + wx3 * p[y0 + x3]
    let r1 = wx0 * p[y1 + x0] + wx1 * p[y1 + x1] + wx2 * p[y1 + x2] + wx3 * p[y1 + x3]
    let r2 = wx0 * p[y2 + x0] + wx1 * p[y2 + x1] + wx2 * p[y2 + x2] + wx3 * p[y2 + x3]
    let r3 = wx0 * p[y3 + x0] + wx1 * p[y3 + x1] + wx2 * p[y3 + x2] + wx3 * p[y3 + x3]
    return wy0 * r0 + wy1 * r1 + wy2 * r2 + wy3 * r3
}

/// Bilinear sample with clamped taps (coarse searches, where speed matters more than accuracy).
@inline(__always)
func sampleBilinear(_ p: UnsafePointer<Float>, width: Int, height: Int, x: Double, y: Double) -> Float {
    let fx = x.rounded(.down), fy = y.rounded(.down)
    let ix = Int(fx), iy = Int(fy)
    let tx = Float(x - fx), ty = Float(y - fy)
    let x0 = min(max(ix, 0), width - 1), x1 = min(max(ix + 1, 0), width - 1)
    let y0 = min(max(iy, 0), height - 1), y1 = min(max(iy + 1, 0), height - 1)
    let r0 = p + y0 * width, r1 = p + y1 * width
    let top = r0[x0] + tx * (r0[x1] - r0[x0])
    let bottom = r1[x0] + tx * (r1[x1] - r1[x0])
    return top + ty * (bottom - top)
}
