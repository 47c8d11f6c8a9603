import Foundation
import Imaging
import Registration
import SeededRandom

/// A misaligned, depth-defocused focus stack rendered from one sharp image, with its true
/// transforms: the test and benchmark data for alignment.
///
/// Slice `i` is a view of `base` through a similarity `A_i` (slice pixel → base pixel: scale,
/// rotation about the slice centre and a drift), defocused by a Gaussian whose width grows with
/// the distance between a smooth depth map (over the base) and the slice's focal plane `i`, times
/// a brightness gain, plus Gaussian noise. Rendering is deterministic for a given seed and is
/// done on demand, one slice per call, so a deep stack never sits in memory at once.
public struct SyntheticFocusStack: SliceSource {
    public struct Configuration: Sendable {
        public var sliceCount: Int
        public var width: Int
        public var height: Int
        /// Focus breathing: scale runs linearly from `1 − breathing` (first slice) to `1 + breathing`.
        public var breathing: Double = 0.02
        /// Rotation (degrees) and drift (pixels) follow random walks scaled to these extremes.
        public var maximumRotationDegrees: Double = 0.5
        public var maximumDrift: Double = 30
        /// Gaussian σ (base pixels) where the depth is furthest from the focal plane.
        public var maximumBlur: Double = 3
        /// Gaussian σ (base pixels) of the in-focus image: the optics' own resolution limit, which
        /// keeps the rendered slices band-limited like a well-sampled microscope image.
        public var focusedBlur: Double = 0.6
        /// Base pixels per slice pixel. Rendering from a finer base (2 or more) approximates
        /// sampling the continuous image, as a camera does, instead of interpolating at the
        /// slices' own resolution, whose phase-dependent smoothing would itself misalign.
        public var baseScale: Double = 1
        /// Standard deviation of the added noise, in the base's value scale.
        public var noise: Double = 1
        /// Brightness gains run linearly from `1 − gainRange` to `1 + gainRange`.
        public var gainRange: Double = 0
        public var format: SampleFormat = .uint8
        public var seed: UInt64 = 1

        public init(sliceCount: Int, width: Int, height: Int) {
            self.sliceCount = sliceCount
            self.width = width
            self.height = height
        }
    }

    public let configuration: Configuration
    public let geometry: SliceGeometry
    public var metadata: ImageMetadata { ImageMetadata() }
    public var count: Int { configuration.sliceCount }
    public let reference: Int
    /// Slice pixel → base pixel, per slice.
    let views: [Affine]
    /// Per-slice brightness gain.
    public let gains: [Double]
    /// The base blurred by the in-focus resolution limit, planar like `Image.pixels`.
    private let focusedBase: [Float]
    private let baseWidth: Int
    private let baseHeight: Int

    /// - Parameter reference: the slice the true matrices map onto (the middle one by default).
    public init(base: Image, configuration: Configuration, reference: Int? = nil) {
        precondition(configuration.sliceCount >= 1 && configuration.width >= 8 && configuration.height >= 8)
        self.configuration = configuration
        self.reference = reference ?? configuration.sliceCount / 2
        geometry = SliceGeometry(width: configuration.width, height: configuration.height, channels: base.channels,
                                 format: configuration.format)
        var random = SplitMix64(seed: configuration.seed)
        let n = configuration.sliceCount
        func walk() -> [Double] {
            var values = [0.0]
            for _ in 1..<max(n, 1) { values.append(values[values.count - 1] + random.uniform(-1, 1)) }
            let mean = values.reduce(0, +) / Double(values.count)
            let centred = values.map { $0 - mean }
            let extreme = centred.map(abs).max() ?? 0
            return centred.map { extreme > 0 ? $0 / extreme : 0 }
        }
        let rotations = walk().map { $0 * configuration.maximumRotationDegrees * .pi / 180 }
        let zoom = configuration.baseScale
        let driftX = walk().map { $0 * configuration.maximumDrift }
        let driftY = walk().map { $0 * configuration.maximumDrift * 0.8 }
        let baseCentreX = (Double(base.width) - 1) / 2, baseCentreY = (Double(base.height) - 1) / 2
        let sliceCentreX = (Double(configuration.width) - 1) / 2, sliceCentreY = (Double(configuration.height) - 1) / 2
        var views = [Affine]()
        var gains = [Double]()
        for i in 0..<n {
            let t = n > 1 ? 2 * Double(i) / Double(n - 1) - 1 : 0
            let scale = zoom * (1 + configuration.breathing * t)
            let cosine = scale * cos(rotations[i]), sine = scale * sin(rotations[i])
            let linear = Affine(a: cosine, b: -sine, tx: 0, c: sine, d: cosine, ty: 0)
            let centred = linear.apply(-sliceCentreX, -sliceCentreY)
            views.append(Affine(a: cosine, b: -sine, tx: centred.x + baseCentreX + zoom * driftX[i],
                                c: sine, d: cosine, ty: centred.y + baseCentreY + zoom * driftY[i]))
            gains.append(1 + configuration.gainRange * t)
        }
        self.views = views
        self.gains = gains
        focusedBase = GaussianBlur.apply(base, sigma: zoom * configuration.focusedBlur).pixels
        baseWidth = base.width
        baseHeight = base.height
    }

    public func sliceName(at index: Int) -> String { "synthetic slice \(index)" }

    /// The true slice → reference-slice pixel map of slice `index`, as a 2×3 matrix.
    public func trueMatrix(_ index: Int) -> [[Double]] {
        views[reference].inverse!.composed(after: views[index]).rows
    }

    /// Depth (0…count−1, the slice index in focus) at base position `(x, y)`: a smooth surface.
    func depth(_ x: Double, _ y: Double) -> Double {
        let u = x / Double(baseWidth), v = y / Double(baseHeight)
        let surface = 0.5 + 0.5 * (0.6 * sin(2 * .pi * 1.1 * u + 0.4) * cos(2 * .pi * 0.7 * v - 0.3) + 0.4 * (u + v - 1))
        return Double(count - 1) * min(max(surface, 0), 1)
    }

    /// Renders slice `index`: the in-focus view, then defocus as light spreading from each
    /// source point with that point's own blur (a sum of Gaussian-blurred layers, the point's
    /// blur interpolated between neighbouring layers), as a lens images a smooth surface. Every
    /// point's image stays centred on it, so defocus changes sharpness, never position.
    public func slice(at index: Int) throws -> Image {
        let w = configuration.width, h = configuration.height
        let bw = baseWidth, bh = baseHeight, plane = bw * bh
        let channels = geometry.channels
        let view = views[index]
        let reach = 0.4 * Double(max(count - 1, 1))
        let maximumBlur = configuration.maximumBlur
        var sharp = [Float](repeating: 0, count: w * h * channels)
        var blur = [Float](repeating: 0, count: w * h)
        focusedBase.withUnsafeBufferPointer { baseBuffer in
        sharp.withUnsafeMutableBufferPointer { sharpBuffer in
        blur.withUnsafeMutableBufferPointer { blurBuffer in
            let base = SharedReadPointer(base: baseBuffer.baseAddress!)
            let out = SharedPointer(base: sharpBuffer.baseAddress!), sigmaOut = SharedPointer(base: blurBuffer.baseAddress!)
            let chunks = Parallel.chunkCount(rows: h, rowCost: 32 * w * channels)
            Parallel.run(chunks: chunks) { chunk in
                for y in Parallel.range(chunk: chunk, of: chunks, total: h) {
                    for x in 0..<w {
                        let p = view.apply(Double(x), Double(y))
                        let bx = min(max(p.x, 0), Double(bw - 1)), by = min(max(p.y, 0), Double(bh - 1))
                        sigmaOut.base[y * w + x] = Float(maximumBlur * min(1, abs(depth(bx, by) - Double(index)) / reach))
                        for c in 0..<channels {
                            out.base[c * w * h + y * w + x] = referenceBicubic(base.base + c * plane, bw, bh, bx, by)
                        }
                    }
                }
            }
        }}}
        var pixels = [Float](repeating: 0, count: w * h * channels)
        let layers = maximumBlur > 0 ? 5 : 1
        let step = maximumBlur / Double(max(layers - 1, 1))
        for k in 0..<layers {
            // Hat weight of layer k at each pixel's blur.
            let position = { (i: Int) -> Float in step > 0 ? blur[i] / Float(step) : 0 }
            let weights = (0..<(w * h)).map { max(0, 1 - abs(position($0) - Float(k))) }
            let any = weights.contains { $0 > 0 }
            guard any else { continue }
            var layer = Image(width: w, height: h, channels: channels)
            for c in 0..<channels {
                let offset = c * w * h
                for i in 0..<(w * h) { layer.pixels[offset + i] = weights[i] * sharp[offset + i] }
            }
            let spread = GaussianBlur.apply(layer, sigma: Double(k) * step)
            for i in pixels.indices { pixels[i] += spread.pixels[i] }
        }
        let gain = Float(gains[index])
        if gain != 1 { for i in pixels.indices { pixels[i] *= gain } }
        if configuration.noise > 0 {
            var random = SplitMix64(seed: configuration.seed &* 0x9E37_79B9 &+ UInt64(index) &+ 17)
            let sigma = Float(configuration.noise)
            var k = 0
            while k < pixels.count {
                let (a, b) = random.normalPair()
                pixels[k] += sigma * Float(a)
                if k + 1 < pixels.count { pixels[k + 1] += sigma * Float(b) }
                k += 2
            }
        }
        if let maximum = configuration.format.maximumValue {
            for k in pixels.indices { pixels[k] = min(max(pixels[k].rounded(), 0), maximum) }
        }
        return Image(width: w, height: h, channels: channels, pixels: pixels)
    }
}

/// Bicubic sampling written independently of the aligner's (`sampleBicubic`), so rendering and
/// estimation share no interpolation code.
private func referenceBicubic(_ p: UnsafePointer<Float>, _ width: Int, _ height: Int, _ x: Double, _ y: Double) -> Float {
    let ix = Int(x.rounded(.down)), iy = Int(y.rounded(.down))
    @inline(__always) func kernel(_ d: Double) -> Double {
        let t = abs(d)
        if t <= 1 { return (1.5 * t - 2.5) * t * t + 1 }
        if t < 2 { return ((-0.5 * t + 2.5) * t - 4) * t + 2 }
        return 0
    }
    let fx = x - Double(ix), fy = y - Double(iy)
    let wx = (kernel(1 + fx), kernel(fx), kernel(1 - fx), kernel(2 - fx))
    let wy = (kernel(1 + fy), kernel(fy), kernel(1 - fy), kernel(2 - fy))
    let xs = (min(max(ix - 1, 0), width - 1), min(max(ix, 0), width - 1), min(max(ix + 1, 0), width - 1), min(max(ix + 2, 0), width - 1))
    @inline(__always) func row(_ j: Int) -> Double {
        let r = p + min(max(iy + j, 0), height - 1) * width
        return wx.0 * Double(r[xs.0]) + wx.1 * Double(r[xs.1]) + wx.2 * Double(r[xs.2]) + wx.3 * Double(r[xs.3])
    }
    return Float(wy.0 * row(-1) + wy.1 * row(0) + wy.2 * row(1) + wy.3 * row(2))
}

/// Separable Gaussian blur with edge repetition (radius ⌈3σ⌉).
enum GaussianBlur {
    static func apply(_ image: Image, sigma: Double) -> Image {
        guard sigma > 0.05 else { return image }
        let radius = Int((3 * sigma).rounded(.up))
        let raw = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = raw.reduce(0, +)
        let weights = raw.map { $0 / total }
        let w = image.width, h = image.height
        var output = image
        var temporary = [Float](repeating: 0, count: w * h)
        for c in 0..<image.channels {
            let offset = c * w * h
            image.pixels.withUnsafeBufferPointer { src in
                temporary.withUnsafeMutableBufferPointer { tmp in
                    let s = SharedReadPointer(base: src.baseAddress! + offset), t = SharedPointer(base: tmp.baseAddress!)
                    let chunks = Parallel.chunkCount(rows: h, rowCost: w * (2 * radius + 1))
                    Parallel.run(chunks: chunks) { chunk in
                        for y in Parallel.range(chunk: chunk, of: chunks, total: h) {
                            for x in 0..<w {
                                var sum: Float = 0
                                for k in -radius...radius {
                                    sum += weights[k + radius] * s.base[y * w + min(max(x + k, 0), w - 1)]
                                }
                                t.base[y * w + x] = sum
                            }
                        }
                    }
                }
            }
            temporary.withUnsafeBufferPointer { tmp in
                output.pixels.withUnsafeMutableBufferPointer { dst in
                    let t = SharedReadPointer(base: tmp.baseAddress!), d = SharedPointer(base: dst.baseAddress! + offset)
                    let chunks = Parallel.chunkCount(rows: h, rowCost: w * (2 * radius + 1))
                    Parallel.run(chunks: chunks) { chunk in
                        for y in Parallel.range(chunk: chunk, of: chunks, total: h) {
                            for x in 0..<w {
                                var sum: Float = 0
                                for k in -radius...radius {
                                    sum += weights[k + radius] * t.base[min(max(y + k, 0), h - 1) * w + x]
                                }
                                d.base[y * w + x] = sum
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}
