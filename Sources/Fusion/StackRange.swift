import Imaging

/// The value range of a whole stack (min and max over every slice and channel, non-finite values
/// ignored), measured in a first pass that reads one slice at a time, and the affine map between
/// the stack's own scale and the generator's [−1, 1].
struct StackRange {
    var minimum: Float
    var maximum: Float

    init(minimum: Float, maximum: Float) {
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Reads every slice once, checking its geometry against the stack's.
    /// - Throws: `FusionError.sliceGeometryMismatch`, or what `slice(at:)` throws.
    init(measuring stack: any SliceSource) throws {
        var lo = Float.infinity, hi = -Float.infinity
        for index in 0..<stack.count {
            let slice = try checkedSlice(stack, index)
            for v in slice.pixels where v.isFinite {
                lo = min(lo, v)
                hi = max(hi, v)
            }
        }
        if !lo.isFinite { lo = 0; hi = 0 }
        minimum = lo
        maximum = hi
    }

    /// Stack scale → [−1, 1]; non-finite values map to −1.
    func normalised(_ image: Image) -> Image {
        let span = maximum - minimum
        let scale: Float = span > 0 ? 2 / span : 0
        let minimum = minimum
        let count = image.pixels.count
        typealias Lanes = SIMD8<Float>
        let lanes = Lanes.scalarCount
        let pixels = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let dst = buffer.baseAddress!
            image.pixels.withUnsafeBufferPointer { source in
                let src = source.baseAddress!
                var i = 0
                // The scalar expression below, lane by lane: max(−1, t) keeps t where t ≥ −1 and
                // min(1, ·) where · < 1 (as Swift's `max` and `min` do); a value is finite where
                // v − v is 0 (non-finite values give NaN).
                while i + lanes <= count {
                    let v = UnsafeRawPointer(src + i).loadUnaligned(as: Lanes.self)
                    let t = (v - minimum) * scale - 1
                    let low = Lanes(repeating: -1).replacing(with: t, where: t .>= -1)
                    let clamped = Lanes(repeating: 1).replacing(with: low, where: low .< 1)
                    let finite = v - v .== 0
                    UnsafeMutableRawPointer(dst + i).storeBytes(of: Lanes(repeating: -1).replacing(with: clamped, where: finite),
                                                                as: Lanes.self)
                    i += lanes
                }
                while i < count {
                    let v = src[i]
                    dst[i] = v.isFinite ? min(1, max(-1, (v - minimum) * scale - 1)) : -1
                    i += 1
                }
            }
            initialized = count
        }
        return Image(width: image.width, height: image.height, channels: image.channels, pixels: pixels)
    }

    /// [−1, 1] → stack scale, clamped to the stack's own range.
    func restored(_ image: Image) -> Image {
        var out = image
        let half = (maximum - minimum) / 2
        for i in 0..<out.pixels.count {
            out.pixels[i] = min(maximum, max(minimum, (out.pixels[i] + 1) * half + minimum))
        }
        return out
    }
}

/// Decodes slice `index` and checks it against the stack's geometry.
func checkedSlice(_ stack: any SliceSource, _ index: Int) throws -> Image {
    let slice = try stack.slice(at: index)
    let g = stack.geometry
    guard slice.width == g.width, slice.height == g.height, slice.channels == g.channels else {
        throw FusionError.sliceGeometryMismatch(slice: stack.sliceName(at: index),
                                                expected: "\(g.width)×\(g.height)×\(g.channels)",
                                                actual: slice.shapeDescription)
    }
    return slice
}
