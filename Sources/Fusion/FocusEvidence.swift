import Foundation
import Imaging

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
        var lap = smooth.laplacian()
        for i in 0..<lap.count { lap.values[i] *= lap.values[i] }
        return lap
    }

    /// Local camera-noise variance (Immerkær), stack units squared.
    static func noiseVariance(_ plane: Plane, radius: Int = 7) -> Plane {
        let w = plane.width, h = plane.height
        var response = Plane(width: w, height: h)
        plane.values.withUnsafeBufferPointer { p in
            for y in 0..<h {
                let up = reflectIndex(y - 1, h) * w, down = reflectIndex(y + 1, h) * w, row = y * w
                for x in 0..<w {
                    let l = reflectIndex(x - 1, w), r = reflectIndex(x + 1, w)
                    let v = p[up + l] + p[up + r] + p[down + l] + p[down + r]
                        - 2 * (p[up + x] + p[down + x] + p[row + l] + p[row + r]) + 4 * p[row + x]
                    response.values[row + x] = abs(v)
                }
            }
        }
        var mean = response.boxMean(radius: radius)
        // σ = √(π/2)/6 · E|M∗I|  (Immerkær 1996)
        let k = Float((Double.pi / 2).squareRoot() / 6)
        for i in 0..<mean.count { let s = k * mean.values[i]; mean.values[i] = s * s }
        return mean
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
    /// The median of the (2r+1)² neighbourhood of an integer-valued map (slice indices), by
    /// counting: values must lie in 0..<`levels`.
    func medianFiltered(radius r: Int, levels: Int) -> Plane {
        guard r > 0, levels > 1 else { return self }
        let w = width, h = height
        var out = self
        var counts = [Int32](repeating: 0, count: levels)
        for y in 0..<h {
            for x in 0..<w {
                for i in 0..<levels { counts[i] = 0 }
                var total: Int32 = 0
                for dy in -r...r {
                    let yy = reflectIndex(y + dy, h) * w
                    for dx in -r...r {
                        let v = Int(values[yy + reflectIndex(x + dx, w)])
                        counts[min(max(v, 0), levels - 1)] += 1
                        total += 1
                    }
                }
                var seen: Int32 = 0
                for i in 0..<levels {
                    seen += counts[i]
                    if 2 * seen > total { out.values[y * w + x] = Float(i); break }
                }
            }
        }
        return out
    }
}
