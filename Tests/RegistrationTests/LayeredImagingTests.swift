import Foundation
import Imaging
import SeededRandom
import Simulation
import Testing
@testable import Registration

/// The layered image-formation model behind `DeconvolvedRefinement` (issue 23).
@Suite struct LayeredImagingTests {
    static func noise(_ count: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }

    /// Sparse bright points, slightly blurred, on a dark field: a fluorescence specimen.
    static func specimen(width: Int, height: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var plane = [Float](repeating: 0, count: width * height)
        for _ in 0..<(width * height / 40) {
            let x = Int(rng.next() % UInt64(width)), y = Int(rng.next() % UInt64(height))
            plane[y * width + x] += 500
        }
        return PlaneBlur.gaussian(plane, width: width, height: height, sigma: 0.8).map(Double.init)
    }

    @Test func fourierRoundTrip() {
        let w = 30, h = 20
        let x = Self.noise(w * h, seed: 1)
        let fft = RealFourier2D(width: w, height: h)
        let spectrum = fft.forward(x)
        #expect(abs(spectrum[0] - x.reduce(0, +)) < 1e-9)
        let back = fft.inverse(spectrum)
        #expect(zip(x, back).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(RealFourier2D.goodSize(atLeast: 229) == 240)
    }

    /// `adjoint` is the exact transpose of `forward` for both layerings: ⟨F L, R⟩ = ⟨L, Fᵀ R⟩.
    @Test(arguments: LayeredImaging.Layering.allCases)
    func adjointIsTheTranspose(layering: LayeredImaging.Layering) {
        let w = 40, h = 36
        let focus = (0..<7).map(Double.init)
        var rng = SplitMix64(seed: 7)
        let depth = (0..<(w * h)).map { p in 0.3 + 5.4 * Double(p % w) / Double(w) + 0.3 * rng.normal() }
        let model = LayeredImaging(focus: focus, width: w, height: h, depth: depth, growth: 1.1, layering: layering,
                                   frame: PaddedFrame(width: w, height: h, pad: 8))
        let image = Self.noise(w * h, seed: 2)
        let residuals = (0..<focus.count).map { Self.noise(w * h, seed: 10 + UInt64($0)) }
        let forward = model.forward(image)
        let left = zip(forward, residuals).map { zip($0, $1).map { $0 * $1 }.reduce(0, +) }.reduce(0, +)
        let right = zip(image, model.adjoint(residuals)).map { $0 * $1 }.reduce(0, +)
        #expect(abs(left - right) <= 1e-9 * max(abs(left), 1), "⟨F L, R⟩ \(left) vs ⟨L, Fᵀ R⟩ \(right)")
    }

    /// On a flat specimen both layerings are one Gaussian blur of σ = growth · defocus.
    @Test func aFlatSpecimenIsOneBlur() {
        let w = 64, h = 64, growth = 1.0
        let image = Self.specimen(width: w, height: h, seed: 3)
        let depth = [Double](repeating: 2, count: w * h)
        let focus = (0..<6).map(Double.init)
        let frame = PaddedFrame(width: w, height: h)
        let scatter = LayeredImaging(focus: focus, width: w, height: h, depth: depth, growth: growth, layering: .scatter, frame: frame).forward(image)
        let gather = LayeredImaging(focus: focus, width: w, height: h, depth: depth, growth: growth, layering: .gather, frame: frame).forward(image)
        for k in [0, 2, 5] {
            let blurred = PlaneBlur.gaussian(image.map(Float.init), width: w, height: h, sigma: growth * abs(Double(k) - 2))
            var worst = 0.0, peak = 0.0
            for y in 16..<(h - 16) {
                for x in 16..<(w - 16) {
                    let p = y * w + x
                    worst = max(worst, abs(scatter[k][p] - Double(blurred[p])), abs(gather[k][p] - scatter[k][p]))
                    peak = max(peak, Double(blurred[p]))
                }
            }
            #expect(worst <= 0.01 * peak, "slice \(k): largest difference \(worst) of peak \(peak)")
        }
    }

    /// Slices made by the model itself (no noise, a tilted specimen): the least-squares image
    /// reproduces them and the depth refit finds the tilt where there is light.
    @Test(arguments: LayeredImaging.Layering.allCases)
    func solvesImageAndDepthOfATiltedSpecimen(layering: LayeredImaging.Layering) {
        let w = 72, h = 64, growth = 1.0
        let focus = (0..<8).map(Double.init)
        let image = Self.specimen(width: w, height: h, seed: 5)
        let depth = (0..<(w * h)).map { p in 1.5 + 4.0 * Double(p % w) / Double(w - 1) }
        let truth = LayeredImaging(focus: focus, width: w, height: h, depth: depth, growth: growth, layering: layering,
                                   frame: PaddedFrame(width: w, height: h))
        let slices = truth.forward(image)
        let solved = truth.forward(truth.solve(slices, iterations: 15))
        var energy = 0.0, error = 0.0
        for (s, f) in zip(slices, solved) {
            for p in s.indices {
                energy += s[p] * s[p]
                error += (s[p] - f[p]) * (s[p] - f[p])
            }
        }
        #expect(error <= 0.02 * energy, "residual \(error / energy) of the slices' energy")
        let fitted = DeconvolvedRefinement.fitDepth(slices, image: image, focus: focus, width: w, height: h,
                                                    growth: growth, frame: truth.frame)
        var errors: [Double] = []
        let bright = (image.sorted()[image.count * 9 / 10])
        for y in 8..<(h - 8) {
            for x in 8..<(w - 8) where image[y * w + x] >= bright { errors.append(abs(fitted[y * w + x] - depth[y * w + x])) }
        }
        errors.sort()
        #expect(errors[errors.count / 2] <= 0.25, "median depth error \(errors[errors.count / 2]) slices where bright")
    }

    /// The first pass picks the layering the stack was simulated with.
    @Test(arguments: [MicroscopeSimulation.Layering.scatter, .gather])
    func choosesTheLayeringTheStackWasMadeWith(layering: MicroscopeSimulation.Layering) throws {
        let stack = try RenderedFocusTests.tiltedMicrotubules(size: 96, slices: 10, breathing: 0, drift: 0, layering: layering).0.stack
        let views = try (0..<10).map { try stack.slice(at: $0).channel(0).pixels }
        let focus = (0..<10).map(Double.init)
        let base = DeconvolvedRefinement.percentile(views, 0.02)
        let slices = views.map { $0.map { Double($0 - base) } }
        let depth = DeconvolvedRefinement.focusDepth(views, focus: focus, width: 96, height: 96)
        let chosen = DeconvolvedRefinement.choose(slices, focus: focus, depth: depth,
                                                  interior: DeconvolvedRefinement.interiorMask(width: 96, height: 96),
                                                  frame: PaddedFrame(width: 96, height: 96), levelScale: 1,
                                                  layerings: LayeredImaging.Layering.allCases)
        #expect(chosen.layering.rawValue == layering.rawValue)
        #expect(chosen.growth == 1.0)
    }
}
