import Imaging

/// A stack seen through its alignment: each slice is read from the source on demand, resampled
/// onto the reference grid (bicubic, every channel, float data), brightness-corrected with its
/// gain and offset, and cut to the alignment's crop.
///
/// Outside a slice (only with `keepSize`) its nearest edge pixel is repeated: a smeared border has no
/// focus evidence, so fusion takes those pixels from the slices that do cover them. (Filling it with a
/// neighbouring slice's measured pixels instead gives a false focus signal there: measured on the
/// drifting fluorescence stacks of `focusd bench stacks`, 34.2 → 32.4 dB.) Integer formats are
/// clamped to their range (0…255, 0…65535), since bicubic interpolation can overshoot; values are
/// not rounded. Slices left unaligned are passed through with the identity (and cropped).
public struct AlignedStack: SliceSource {
    public let source: any SliceSource
    public let alignment: AlignmentResult
    public let geometry: SliceGeometry
    /// Reference → slice pixel maps, one per slice.
    private let referenceToSlice: [Affine]

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
    }

    public var count: Int { source.count }
    public var metadata: ImageMetadata { source.metadata }
    public func sliceName(at index: Int) -> String { source.sliceName(at: index) }

    /// Reads slice `index` from the source and resamples it.
    /// - Throws: whatever the source throws.
    public func slice(at index: Int) throws -> Image {
        let input = try source.slice(at: index)
        let transform = alignment.slices[index]
        return Resampler.warp(input, referenceToSlice: referenceToSlice[index],
                              crop: (alignment.crop[0], alignment.crop[1], alignment.crop[2], alignment.crop[3]),
                              gain: Float(transform.gain), offset: Float(transform.offset),
                              maximum: source.geometry.format.maximumValue)
    }
}

/// Resampling of whole images through an affine map.
public enum Resampler {
    /// Output pixel `(i, j)` of each channel = `gain·input(m(x + i, y + j)) + offset`, bicubic,
    /// where `m` maps reference pixel coordinates to the input's; positions outside the input take
    /// its nearest edge pixel. Values are clamped to `0…maximum` when `maximum` is given.
    static func warp(_ input: Image, referenceToSlice m: Affine, crop: (x: Int, y: Int, width: Int, height: Int),
                     gain: Float, offset: Float, maximum: Float?) -> Image {
        let w = input.width, h = input.height
        let ow = crop.width, oh = crop.height
        let isIdentity = m == .identity && gain == 1 && offset == 0
        var out = [Float](repeating: 0, count: ow * oh * input.channels)
        input.pixels.withUnsafeBufferPointer { inBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                let src = SharedReadPointer(base: inBuffer.baseAddress!), dst = SharedPointer(base: outBuffer.baseAddress!)
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
                            let sx = min(max(m.a * rx + m.b * ry + m.tx, 0), Double(w - 1))
                            let sy = min(max(m.c * rx + m.d * ry + m.ty, 0), Double(h - 1))
                            for c in 0..<input.channels {
                                var v = gain * sampleBicubic(src.base + c * w * h, width: w, height: h, x: sx, y: sy) + offset
                                if let maximum { v = min(max(v, 0), maximum) }
                                dst.base[c * ow * oh + j * ow + i] = v
                            }
                        }
                    }
                }
            }
        }
        return Image(width: ow, height: oh, channels: input.channels, pixels: out)
    }
}
