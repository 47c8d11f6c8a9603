import Imaging

/// A stack seen through its alignment: each slice is read from the source on demand, resampled
/// onto the reference grid (bicubic, every channel, float data), brightness-corrected with its
/// gain and offset, and cut to the alignment's crop.
///
/// Outside a slice (only with `keepSize`) the pixels come from the nearest slice that covers the
/// whole frame (`PaddedBorder`), resampled through its own transform; where there is none, the
/// slice's nearest edge pixel is repeated. Integer formats are clamped to their range (0…255,
/// 0…65535), since bicubic interpolation can overshoot; values are not rounded. Slices left
/// unaligned are passed through with the identity (and cropped).
public struct AlignedStack: SliceSource {
    public let source: any SliceSource
    public let alignment: AlignmentResult
    public let geometry: SliceGeometry
    /// Reference → slice pixel maps, one per slice.
    private let referenceToSlice: [Affine]
    /// Per slice: the slice its uncovered pixels are read from (`nil`: it covers the frame).
    private let filledFrom: [Int?]

    /// - Precondition: `alignment` has one valid transform per slice of `source` and was made
    ///   for its slice size (`AlignmentResult.validate()` passes).
    public init(_ source: any SliceSource, alignment: AlignmentResult) {
        precondition(alignment.slices.count == source.count, "alignment has \(alignment.slices.count) slices, the stack \(source.count)")
        precondition(alignment.width == source.geometry.width && alignment.height == source.geometry.height,
                     "alignment made for \(alignment.width)×\(alignment.height) slices, the stack has \(source.geometry.width)×\(source.geometry.height)")
        precondition((try? alignment.validate()) != nil, "alignment is inconsistent")
        self.source = source
        self.alignment = alignment
        var geometry = source.geometry
        geometry.width = alignment.crop[2]
        geometry.height = alignment.crop[3]
        self.geometry = geometry
        referenceToSlice = alignment.slices.map { Affine(rows: $0.matrix)!.inverse! }
        filledFrom = PaddedBorder.plan(for: alignment).filledFrom
    }

    public var count: Int { source.count }
    public var metadata: ImageMetadata { source.metadata }
    public func sliceName(at index: Int) -> String { source.sliceName(at: index) }

    /// Reads slice `index` from the source and resamples it (reading the slice that fills its
    /// uncovered border too, when the output frame reaches beyond the slice).
    /// - Throws: whatever the source throws.
    public func slice(at index: Int) throws -> Image {
        let input = try source.slice(at: index)
        let transform = alignment.slices[index]
        let crop = (x: alignment.crop[0], y: alignment.crop[1], width: alignment.crop[2], height: alignment.crop[3])
        var fill: Resampler.Fill?
        if let j = filledFrom[index], Resampler.leavesUncovered(referenceToSlice[index], crop: crop, width: input.width, height: input.height) {
            fill = Resampler.Fill(input: try source.slice(at: j), referenceToSlice: referenceToSlice[j],
                                  gain: Float(alignment.slices[j].gain), offset: Float(alignment.slices[j].offset))
        }
        return Resampler.warp(input, referenceToSlice: referenceToSlice[index], crop: crop,
                              gain: Float(transform.gain), offset: Float(transform.offset),
                              maximum: source.geometry.format.maximumValue, fill: fill)
    }
}

/// Resampling of whole images through an affine map.
public enum Resampler {
    /// Where pixels a slice does not cover come from: another slice of the same size, through its
    /// own reference → slice map and brightness correction.
    struct Fill {
        var input: Image
        var referenceToSlice: Affine
        var gain: Float
        var offset: Float
    }

    /// Positions within this distance outside the first and last pixel centres count as inside.
    static let coverageTolerance = 1e-6

    /// Whether some pixel of the `crop` rectangle (reference coordinates) maps outside a `width × height`
    /// slice under `m`: the rectangle is convex, so its corners decide.
    static func leavesUncovered(_ m: Affine, crop: (x: Int, y: Int, width: Int, height: Int), width: Int, height: Int) -> Bool {
        let x0 = Double(crop.x), y0 = Double(crop.y), x1 = Double(crop.x + crop.width - 1), y1 = Double(crop.y + crop.height - 1)
        return [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].contains { corner in
            let p = m.apply(corner.0, corner.1)
            return p.x < -coverageTolerance || p.x > Double(width - 1) + coverageTolerance
                || p.y < -coverageTolerance || p.y > Double(height - 1) + coverageTolerance
        }
    }

    /// Output pixel `(i, j)` of each channel = `gain·input(m(x + i, y + j)) + offset`, bicubic,
    /// where `m` maps reference pixel coordinates to the input's; positions outside the input are
    /// read from `fill` (its own map, gain and offset) when given, else take the input's nearest
    /// edge pixel. Values are clamped to `0…maximum` when `maximum` is given.
    static func warp(_ input: Image, referenceToSlice m: Affine, crop: (x: Int, y: Int, width: Int, height: Int),
                     gain: Float, offset: Float, maximum: Float?, fill: Fill? = nil) -> Image {
        let w = input.width, h = input.height
        let ow = crop.width, oh = crop.height
        let isIdentity = m == .identity && gain == 1 && offset == 0
        let fill = fill.flatMap { $0.input.width == w && $0.input.height == h && $0.input.channels == input.channels ? $0 : nil }
        let fillPixels = fill?.input.pixels ?? []
        let tolerance = coverageTolerance
        var out = [Float](repeating: 0, count: ow * oh * input.channels)
        input.pixels.withUnsafeBufferPointer { inBuffer in
        fillPixels.withUnsafeBufferPointer { fillBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                let src = SharedReadPointer(base: inBuffer.baseAddress!), dst = SharedPointer(base: outBuffer.baseAddress!)
                let fillSource = fillBuffer.baseAddress.map { SharedReadPointer(base: $0) }
                let chunks = Parallel.chunkCount(rows: oh, rowCost: 24 * ow * input.channels)
                Parallel.run(chunks: chunks) { chunk in
                    for j in Parallel.range(chunk: chunk, of: chunks, total: oh) {
                        if isIdentity {
                            for c in 0..<input.channels {
                                let from = src.base + c * w * h + (crop.y + j) * w + crop.x
                                (dst.base + c * ow * oh + j * ow).update(from: from, count: ow)
                            }
                            continue
                        }
                        let ry = Double(crop.y + j), rx0 = Double(crop.x)
                        for i in 0..<ow {
                            let rx = rx0 + Double(i)
                            let ux = m.a * rx + m.b * ry + m.tx, uy = m.c * rx + m.d * ry + m.ty
                            var base = src.base, g = gain, o = offset, px = ux, py = uy
                            if let fill, let fillSource,
                               ux < -tolerance || ux > Double(w - 1) + tolerance || uy < -tolerance || uy > Double(h - 1) + tolerance {
                                let f = fill.referenceToSlice
                                base = fillSource.base; g = fill.gain; o = fill.offset
                                px = f.a * rx + f.b * ry + f.tx; py = f.c * rx + f.d * ry + f.ty
                            }
                            let sx = min(max(px, 0), Double(w - 1)), sy = min(max(py, 0), Double(h - 1))
                            for c in 0..<input.channels {
                                var v = g * sampleBicubic(base + c * w * h, width: w, height: h, x: sx, y: sy) + o
                                if let maximum { v = min(max(v, 0), maximum) }
                                dst.base[c * ow * oh + j * ow + i] = v
                            }
                        }
                    }
                }
            }
        }}
        return Image(width: ow, height: oh, channels: input.channels, pixels: out)
    }
}
