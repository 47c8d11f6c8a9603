import Foundation
import Imaging
import SeededRandom

/// Simulates a widefield focus stack of a 2.5-D specimen (ARCHITECTURE.md, "Simulate the microscope").
///
/// 1. The texture (any channels, any scale) becomes the specimen: each channel scaled to 0…1 by its
///    0.5th and 99.8th percentiles — emitted light for fluorescence, transmitted light for
///    brightfield.
/// 2. A random smooth surface (``HeightMap``) places every pixel at a focal depth h(x, y).
/// 3. Slice k sees pixel (x, y) through a PSF of size √(w₀² + (a·|k − h|)²): a Gaussian for
///    fluorescence, a soft disc for brightfield. `layering` says how: `.gather` (the default) blurs
///    the specimen once per defocus level (levels at 0, ¼, ½ … slices, coarser far from focus) and
///    each pixel interpolates linearly between the two levels around its own defocus (the common
///    2.5-D approximation; near a change of height it moves light); `.scatter` splits the specimen
///    into depth layers ½ slice apart and sums each layer through the PSF of its own defocus (every
///    point spreads its light symmetrically and keeps it: the physics of incoherent emission, about
///    N × layers blurs per stack instead of one per level).
/// 4. Optional breathing (magnification about the centre) and drift (a random walk) per slice, both
///    relative to slice N/2, whose frame is the ground truth's.
/// 5. The camera: offset + gain · Poisson(photons) + Gaussian read noise, rounded and clipped to
///    the format.
/// Ground truth is step 3 at zero defocus (PSF w₀) in camera units without noise: the best any
/// fusion can do. Deterministic for `settings.seed`.
public struct MicroscopeSimulator: Sendable {
    public let settings: MicroscopeSimulation

    public init(settings: MicroscopeSimulation) {
        self.settings = settings
    }

    /// Simulates a stack from `texture`.
    /// - Throws: `SimulationError` for bad settings or a texture without contrast or below 16×16.
    public func simulate(texture: Image) throws(SimulationError) -> SimulatedStack {
        try settings.validate()
        guard texture.width >= 16, texture.height >= 16 else {
            throw .unusableTexture("\(texture.width)×\(texture.height) is too small; give at least 16×16 pixels")
        }
        let w = texture.width, h = texture.height, n = w * h
        var rng = SplitMix64(seed: settings.seed)
        let specimen = try Self.normalisedPlanes(texture)
        let surface = HeightMap.random(width: w, height: h, slices: settings.slices, span: settings.span,
                                       steps: settings.surfaceSteps, using: &rng)
        let scatter = settings.layering == .scatter
        let maximumDefocus = Double(surface.values.map { max(Double($0), Double(settings.slices - 1) - Double($0)) }.max() ?? 0)
        // Scattering blurs depth layers per slice and needs only level 0 (the ground truth) of these.
        let levels = scatter ? [0] : Self.defocusLevels(upTo: maximumDefocus)
        // blurred[c][l]: channel c through the PSF at defocus levels[l].
        let blurred: [[[Float]]] = specimen.map { plane in levels.map { blur(plane, width: w, height: h, defocus: $0) } }

        let gain = settings.effectiveGain
        let photons = settings.photons
        let background = settings.modality == .fluorescence ? settings.background * photons : 0
        // Expected camera value of a specimen value s (0…1) at one pixel.
        func expected(_ s: Float) -> Double { settings.offset + gain * (photons * Double(max(s, 0)) + background) }

        var truth = [Float](repeating: 0, count: n * specimen.count)
        for c in specimen.indices { for p in 0..<n { truth[c * n + p] = Float(expected(blurred[c][0][p])) } }

        let transforms = Self.sliceTransforms(settings, using: &rng)
        let maximum = Double(settings.format.maximumValue ?? 65535)
        var slices: [Image] = []
        let layered = scatter ? Self.heightLayers(specimen, surface: surface, spacing: 0.5) : []
        for k in 0..<settings.slices {
            var clean = [Float](repeating: 0, count: n * specimen.count)
            if scatter {
                for c in specimen.indices {
                    var sum = [Float](repeating: 0, count: n)
                    for layer in layered[c] {
                        let b = blur(layer.plane, width: w, height: h, defocus: abs(Double(k) - layer.z))
                        for p in 0..<n { sum[p] += b[p] }
                    }
                    for p in 0..<n { clean[c * n + p] = Float(expected(sum[p])) }
                }
            } else {
                for p in 0..<n {
                    let defocus = abs(Double(k) - Double(surface.values[p]))
                    let (l, t) = Self.interval(levels, defocus)
                    for c in specimen.indices {
                        let v = (1 - t) * blurred[c][l][p] + t * blurred[c][min(l + 1, levels.count - 1)][p]
                        clean[c * n + p] = Float(expected(v))
                    }
                }
            }
            let motion = transforms[k]
            if motion.scale != 1 || motion.dx != 0 || motion.dy != 0 {
                clean = Self.warped(clean, channels: specimen.count, width: w, height: h,
                                    scale: motion.scale, dx: motion.dx, dy: motion.dy)
            }
            var pixels = clean
            for i in pixels.indices {
                let electrons = (Double(pixels[i]) - settings.offset) / gain
                var value = settings.offset + gain * (rng.poisson(max(electrons, 0)) + settings.readNoise * rng.normal())
                value = min(maximum, max(0, value.rounded()))
                pixels[i] = Float(value)
            }
            slices.append(Image(width: w, height: h, channels: specimen.count, pixels: pixels))
        }
        return SimulatedStack(settings: settings, slices: slices,
                              groundTruth: Image(width: w, height: h, channels: specimen.count, pixels: truth),
                              height: surface, transforms: transforms)
    }

    /// The specimen split into depth layers `spacing` slices apart, each pixel shared linearly between
    /// the two layers around its height; layers without any light are left out.
    static func heightLayers(_ specimen: [[Float]], surface: HeightMap, spacing: Double) -> [[(z: Double, plane: [Float])]] {
        let heights = surface.values
        let lo = Double(heights.min() ?? 0), hi = Double(heights.max() ?? 0)
        let count = Int(((hi - lo) / spacing).rounded(.up)) + 1
        return specimen.map { plane in
            var planes = [[Float]](repeating: [Float](repeating: 0, count: plane.count), count: count)
            var mass = [Float](repeating: 0, count: count)
            for p in plane.indices {
                let u = (Double(heights[p]) - lo) / spacing
                let j = min(Int(u), count - 1), t = Float(u - Double(j))
                planes[j][p] += (1 - t) * plane[p]
                mass[j] += (1 - t) * plane[p]
                if j + 1 < count {
                    planes[j + 1][p] += t * plane[p]
                    mass[j + 1] += t * plane[p]
                }
            }
            return (0..<count).filter { mass[$0] > 0 }.map { (lo + Double($0) * spacing, planes[$0]) }
        }
    }

    /// One specimen plane through the modality's PSF at `defocus` slices.
    func blur(_ plane: [Float], width: Int, height: Int, defocus: Double) -> [Float] {
        let size = settings.psfWidth(defocus: defocus)
        switch settings.modality {
        case .fluorescence: return DefocusBlur.gaussian(plane, width: width, height: height, sigma: size)
        case .brightfield: return DefocusBlur.softDisc(plane, width: width, height: height, radius: size)
        }
    }

    /// Defocus levels (slices): quarter steps to 2, half steps to 4, then growing by a quarter.
    static func defocusLevels(upTo maximum: Double) -> [Double] {
        var levels: [Double] = [0]
        var d = 0.0
        while d < maximum {
            let step = d < 2 ? 0.25 : d < 4 ? 0.5 : d / 4
            d += step
            levels.append(d)
        }
        return levels
    }

    /// The level interval holding `value`: index of its lower level and the fraction towards the next.
    static func interval(_ levels: [Double], _ value: Double) -> (Int, Float) {
        var lo = 0, hi = levels.count - 1
        if value >= levels[hi] { return (hi, 0) }
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if levels[mid] <= value { lo = mid } else { hi = mid }
        }
        return (lo, Float((value - levels[lo]) / (levels[lo + 1] - levels[lo])))
    }

    /// Each channel of the texture scaled to 0…1 by its 0.5th and 99.8th percentiles (values
    /// beyond clipped to 0…1.2, so the brightest structures keep some shape).
    /// - Throws: `SimulationError.unusableTexture` when a channel has no contrast.
    static func normalisedPlanes(_ texture: Image) throws(SimulationError) -> [[Float]] {
        let n = texture.planeSize
        var planes: [[Float]] = []
        for c in 0..<texture.channels {
            let plane = Array(texture.pixels[(c * n)..<((c + 1) * n)])
            let sorted = plane.filter(\.isFinite).sorted()
            guard sorted.count == n else { throw .unusableTexture("channel \(c) holds non-finite values") }
            let lo = sorted[Int(0.005 * Double(n - 1))], hi = sorted[Int(0.998 * Double(n - 1))]
            guard hi > lo else { throw .unusableTexture("channel \(c) has no contrast (percentiles 0.5 and 99.8 are both \(lo))") }
            let scale = 1 / (hi - lo)
            planes.append(plane.map { min(1.2, max(0, ($0 - lo) * scale)) })
        }
        return planes
    }

    /// Per slice magnification (breathing) and shift (random walk), identity at slice N/2.
    static func sliceTransforms(_ s: MicroscopeSimulation, using rng: inout SplitMix64) -> [SliceMotion] {
        var walk: [(Double, Double)] = [(0, 0)]
        for _ in 1..<s.slices {
            let last = walk[walk.count - 1]
            walk.append((last.0 + s.drift * rng.normal(), last.1 + s.drift * rng.normal()))
        }
        // The reference frame (no transform, the ground truth's) is slice N/2's, the slice aligners
        // map onto by default.
        let middle = s.slices / 2
        let (mx, my) = walk[middle]
        return (0..<s.slices).map { k in
            let fraction = s.slices > 1 ? Double(k - middle) / Double(s.slices - 1) : 0
            return SliceMotion(scale: 1 + s.breathing * fraction, dx: walk[k].0 - mx, dy: walk[k].1 - my)
        }
    }

    /// Bilinear resampling: output (x, y) shows the input at ((x − cx)/scale + cx − dx, …), so the
    /// content is magnified by `scale` about the centre and moved by (dx, dy).
    static func warped(_ pixels: [Float], channels: Int, width: Int, height: Int,
                       scale: Double, dx: Double, dy: Double) -> [Float] {
        let n = width * height
        var out = [Float](repeating: 0, count: pixels.count)
        let cx = Double(width - 1) / 2, cy = Double(height - 1) / 2
        for y in 0..<height {
            for x in 0..<width {
                let sx = min(max((Double(x) - cx) / scale + cx - dx, 0), Double(width - 1))
                let sy = min(max((Double(y) - cy) / scale + cy - dy, 0), Double(height - 1))
                let x0 = min(Int(sx), width - 2 < 0 ? 0 : width - 2), y0 = min(Int(sy), height - 2 < 0 ? 0 : height - 2)
                let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
                for c in 0..<channels {
                    let o = c * n
                    let top = pixels[o + y0 * width + x0] * (1 - fx) + pixels[o + y0 * width + x1] * fx
                    let bottom = pixels[o + y1 * width + x0] * (1 - fx) + pixels[o + y1 * width + x1] * fx
                    out[o + y * width + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }
}
