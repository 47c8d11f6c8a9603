/// A direct 3×3, stride-1, padding-1 convolution for few output channels (the U-Net's last
/// layer has one per image channel), where a GEMM with M ≤ 4 wastes most of its kernel.
///
/// Parallel over output rows; each output row accumulates `w·input row` for every
/// (input channel, ky, kx) in 8-lane vectors and stays in L1 while it does.
extension Conv2D {
    /// Whether ``forward`` uses the direct kernel for this geometry.
    var usesDirectKernel: Bool {
        outChannels <= 4 && kernelHeight == 3 && kernelWidth == 3 && stride == 1 && padding == 1
    }

    func forwardDirect(
        input: UnsafePointer<Float>, batch: Int, height: Int, width: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
        output: UnsafeMutablePointer<Float>, accumulate: Bool
    ) {
        let plane = height * width
        Compute.parallelFor(batch * height, minimumPerThread: max(1, 4096 / max(1, width))) { row in
            let n = row / height, oy = row % height
            let x = input + n * inChannels * plane
            for co in 0..<outChannels {
                let out = output + (n * outChannels + co) * plane + oy * width
                let value = (bias?[co] ?? 0) + (shift?[n * outChannels + co] ?? 0)
                if accumulate {
                    for i in 0..<width { out[i] += value }
                } else {
                    out.update(repeating: value, count: width)
                }
                for ci in 0..<inChannels {
                    for ky in 0..<3 {
                        let iy = oy - 1 + ky
                        guard iy >= 0 && iy < height else { continue }
                        let source = x + ci * plane + iy * width
                        let w = weight + ((co * inChannels + ci) * 3 + ky) * 3
                        accumulateRow(out, source, width: width, w0: w[0], w1: w[1], w2: w[2])
                    }
                }
            }
        }
    }
}

/// `out[x] += w0·src[x−1] + w1·src[x] + w2·src[x+1]` with zeros outside `0..<width`.
@inline(__always)
private func accumulateRow(
    _ out: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, width: Int, w0: Float, w1: Float, w2: Float
) {
    if width == 1 {
        out[0] += w1 * source[0]
        return
    }
    out[0] += w1 * source[0] + w2 * source[1]
    out[width - 1] += w0 * source[width - 2] + w1 * source[width - 1]
    let a = SIMD8<Float>(repeating: w0), b = SIMD8<Float>(repeating: w1), c = SIMD8<Float>(repeating: w2)
    let raw = UnsafeRawPointer(source), outRaw = UnsafeMutableRawPointer(out)
    var x = 1
    while x + 8 <= width - 1 {
        var v = outRaw.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self)
        v += a * raw.loadUnaligned(fromByteOffset: (x - 1) * 4, as: SIMD8<Float>.self)
        v += b * raw.loadUnaligned(fromByteOffset: x * 4, as: SIMD8<Float>.self)
        v += c * raw.loadUnaligned(fromByteOffset: (x + 1) * 4, as: SIMD8<Float>.self)
        outRaw.storeBytes(of: v, toByteOffset: x * 4, as: SIMD8<Float>.self)
        x += 8
    }
    while x < width - 1 {
        out[x] += w0 * source[x - 1] + w1 * source[x] + w2 * source[x + 1]
        x += 1
    }
}
