import Foundation
import Imaging
import NN

/// Per-slice focus evidence and the noise it is measured against (ARCHITECTURE.md, "Decide between
/// sources, compose once").
///
/// Evidence E = the local mean, over a `window`×`window` box, of the squared Laplacian of the
/// slice's decision plane after a Gaussian pre-smoothing of σ = `sigma` px (a Laplacian of
/// Gaussian): band-pass energy, which defocus removes and which pixel-level photon noise feeds
/// much less than a plain Laplacian. Units: squared stack units.
///
/// Noise: the local variance of the camera noise per pixel, from Immerkær's estimator (the mean
/// absolute response to the 3×3 mask [1 −2 1; −2 4 −2; 1 −2 1], which cancels smooth signal), over
/// a 15×15 box; the minimum over the slices seen is kept, since the most defocused slice carries the
/// least signal at that scale. From it follow the evidence's noise floor c·v (c = Σ k² of the LoG
/// kernel) and its standard deviation (``evidenceSpread(evidence:noise:)``).
struct FocusEvidence {
    let sigma: Double
    let window: Int
    /// Σ k² of the LoG kernel: the evidence's mean under white noise of unit variance.
    let noiseGain: Float
    /// Effective pixels per independent noise sample of the LoG response (its correlation area).
    let correlationArea: Float

    init(sigma: Double, window: Int) {
        self.sigma = sigma
        self.window = window
        let kernel = Self.logKernel(sigma: sigma)
        noiseGain = kernel.reduce(0) { $0 + $1 * $1 }
        correlationArea = Float(1 + 2 * Double.pi * sigma * sigma)
    }

    /// The 1-D Gaussian taps of the pre-smoothing (radius ⌈3σ⌉), or [1] for σ = 0.
    static func gaussianTaps(sigma: Double) -> [Float] {
        guard sigma > 0.05 else { return [1] }
        let r = Int((3 * sigma).rounded(.up))
        let taps = (-r...r).map { Float(exp(-0.5 * Double($0 * $0) / (sigma * sigma))) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }

    /// The 2-D LoG kernel (Gaussian ⊛ 4-neighbour Laplacian), row-major, for its noise gain.
    static func logKernel(sigma: Double) -> [Float] {
        let g = gaussianTaps(sigma: sigma)
        let size = g.count + 2
        var gauss2 = [Float](repeating: 0, count: size * size)
        for y in 0..<g.count { for x in 0..<g.count { gauss2[(y + 1) * size + x + 1] = g[y] * g[x] } }
        var out = [Float](repeating: 0, count: size * size)
        for y in 1..<(size - 1) {
            for x in 1..<(size - 1) {
                out[y * size + x] = gauss2[(y - 1) * size + x] + gauss2[(y + 1) * size + x]
                    + gauss2[y * size + x - 1] + gauss2[y * size + x + 1] - 4 * gauss2[y * size + x]
            }
        }
        return out
    }

    /// E for one decision plane.
    func evidence(_ plane: Plane) -> Plane {
        squaredResponse(plane).boxMean(radius: window / 2)
    }

    /// The squared LoG response per pixel (E before the box mean).
    func squaredResponse(_ plane: Plane) -> Plane {
        let smooth = sigma > 0.05 ? plane.convolved(Self.gaussianTaps(sigma: sigma)) : plane
        return smooth.laplacian(squared: true)
    }

    /// Local camera-noise variance (Immerkær), stack units squared.
    static func noiseVariance(_ plane: Plane, radius: Int = 7) -> Plane {
        var mean = immerkaerResponse(plane).boxMean(radius: radius)
        // σ = √(π/2)/6 · E|M∗I|  (Immerkær 1996)
        let k = Float((Double.pi / 2).squareRoot() / 6)
        mean.values.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { let s = k * v[i]; v[i] = s * s }
        }
        return mean
    }

    /// |M ∗ I| per pixel for Immerkær's mask (reflected borders), vectorised across each row's
    /// interior with the scalar definition's operation order.
    static func immerkaerResponse(_ plane: Plane) -> Plane {
        let w = plane.width, h = plane.height
        let lanes = Plane.Lanes.scalarCount
        let out = [Float](unsafeUninitializedCapacity: plane.count) { buffer, initialized in
            let dst = buffer.baseAddress!
            plane.values.withUnsafeBufferPointer { source in
                let p = source.baseAddress!
                for y in 0..<h {
                    let up = p + reflectIndex(y - 1, h) * w, down = p + reflectIndex(y + 1, h) * w, row = p + y * w
                    let o = dst + y * w
                    func scalar(_ x: Int) {
                        let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                        let v = up[l] + up[r] + down[l] + down[r] - 2 * (up[x] + down[x] + row[l] + row[r]) + 4 * row[x]
                        o[x] = abs(v)
                    }
                    scalar(0)
                    guard w > 1 else { continue }
                    var x = 1
                    while x + lanes <= w - 1 {
                        let v = Plane.load(up + x - 1) + Plane.load(up + x + 1) + Plane.load(down + x - 1) + Plane.load(down + x + 1)
                            - 2 * (Plane.load(up + x) + Plane.load(down + x) + Plane.load(row + x - 1) + Plane.load(row + x + 1))
                            + 4 * Plane.load(row + x)
                        Plane.store(unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7fff_ffff, to: Plane.Lanes.self), o + x)
                        x += lanes
                    }
                    while x < w - 1 {
                        let v = up[x - 1] + up[x + 1] + down[x - 1] + down[x + 1] - 2 * (up[x] + down[x] + row[x - 1] + row[x + 1]) + 4 * row[x]
                        o[x] = abs(v)
                        x += 1
                    }
                    scalar(w - 1)
                }
            }
            initialized = plane.count
        }
        return Plane(width: w, height: h, values: out)
    }

    /// Standard deviation of E at a pixel whose evidence is `evidence` and noise variance `noise`:
    /// the squared-noise term and the signal × noise cross term of a box mean over `window`² pixels
    /// with `correlationArea` pixels per independent sample.
    func evidenceSpread(evidence: Float, noise: Float) -> Float {
        let floor = noiseGain * noise
        let samples = Float(window * window) / correlationArea
        let signal = max(evidence - floor, 0)
        return (2 * floor * floor / samples + 4 * signal * floor / samples).squareRoot()
    }
}

extension Plane {
    /// The median of the (2r+1)² neighbourhood of an integer-valued map (slice indices), values
    /// clamped to 0..<`levels`: the ⌊(2r+1)²/2⌋-th smallest, found by sorting each neighbourhood
    /// (a handful of values), rows in parallel on the engine's threads.
    func medianFiltered(radius r: Int, levels: Int) -> Plane {
        guard r > 0, levels > 1 else { return self }
        let w = width, h = height
        let side = 2 * r + 1, total = side * side
        let level = values.map { Int32(Swift.min(Swift.max(Int($0), 0), levels - 1)) }
        // Reflected column of x + dx for x + dx in −r..<w + r.
        let column = (-r..<(w + r)).map { reflectIndex($0, w) }
        var out = self
        out.values.withUnsafeMutableBufferPointer { dst in
            level.withUnsafeBufferPointer { source in
                column.withUnsafeBufferPointer { column in
                    let bands = Swift.min(h, 4 * Compute.threads)
                    Compute.parallelTasks(bands) { band, _ in
                        let window = UnsafeMutablePointer<Int32>.allocate(capacity: total)
                        defer { window.deallocate() }
                        for y in (h * band / bands)..<(h * (band + 1) / bands) {
                            for x in 0..<w {
                                var k = 0
                                for dy in -r...r {
                                    let row = source.baseAddress! + reflectIndex(y + dy, h) * w
                                    for dx in 0..<side {
                                        // Insertion into the sorted prefix window[0..<k].
                                        let v = row[column[x + dx]]
                                        var j = k
                                        while j > 0 && window[j - 1] > v { window[j] = window[j - 1]; j -= 1 }
                                        window[j] = v
                                        k += 1
                                    }
                                }
                                dst[y * w + x] = Float(window[total / 2])
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
