import Foundation
import Imaging
@testable import Simulation
import Testing

/// A deterministic texture with structure at several scales (no data files needed).
func testTexture(width: Int = 64, height: Int = 64) -> Image {
    var pixels = [Float](repeating: 0, count: width * height)
    for y in 0..<height {
        for x in 0..<width {
            let u = Float(x), v = Float(y)
            let spots: Float = ((x / 4 + y / 4) % 3 == 0) ? 1 : 0
            let waves: Float = 300 * sinf(u * 0.9) * cosf(v * 0.7)
            let slow: Float = 200 * sinf(u * 0.13 + v * 0.21)
            pixels[y * width + x] = 1000 + 800 * spots + waves + slow
        }
    }
    return Image(width: width, height: height, channels: 1, pixels: pixels)
}

@Suite("Microscope simulator")
struct SimulatorTests {
    @Test("the same seed reproduces the stack; another seed does not")
    func seeds() throws {
        let texture = testTexture()
        let a = try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 6, photons: 200, seed: 5)).simulate(texture: texture)
        let b = try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 6, photons: 200, seed: 5)).simulate(texture: texture)
        let c = try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 6, photons: 200, seed: 6)).simulate(texture: texture)
        #expect(a.slices == b.slices)
        #expect(a.height == b.height)
        #expect(a.slices != c.slices)
    }

    @Test("where the surface lies on a slice, that slice's noise-free value is the ground truth")
    func truthAtFocus() throws {
        var settings = MicroscopeSimulation(slices: 9, photons: 20_000, seed: 2)
        settings.readNoise = 0
        let stack = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        // At 20,000 photons the Poisson noise is under 1 % of the signal (and nothing clips at 65,535): compare pixels within 0.02 slices of
        // a plane, against the ground truth's range.
        var checked = 0, worst: Float = 0
        let n = stack.groundTruth.planeSize
        let range = stack.groundTruth.pixels.max()! - stack.groundTruth.pixels.min()!
        for p in 0..<n {
            let h = stack.height.values[p]
            let k = Int(h.rounded())
            guard abs(h - Float(k)) < 0.02 else { continue }
            let truth = stack.groundTruth.pixels[p], measured = stack.slices[k].pixels[p]
            worst = max(worst, abs(measured - truth) / range)
            checked += 1
        }
        #expect(checked > 20)
        #expect(worst < 0.02, "worst difference \(worst) of the range")
        // Far from focus the slice differs from the truth (the defocus is real).
        var far: Float = 0
        for p in 0..<n where abs(stack.height.values[p] - 8) > 4 { far = max(far, abs(stack.slices[8].pixels[p] - stack.groundTruth.pixels[p]) / range) }
        #expect(far > 0.1)
    }

    @Test("scatter layering keeps the light: every slice carries the ground truth's total, the surface still focuses")
    func scatterConservesLight() throws {
        var settings = MicroscopeSimulation(slices: 8, photons: 20_000, seed: 3)
        settings.readNoise = 0
        settings.layering = .scatter
        let stack = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        let truthMean = stack.groundTruth.pixels.reduce(0, +) / Float(stack.groundTruth.planeSize)
        for (k, slice) in stack.slices.enumerated() {
            let mean = slice.pixels.reduce(0, +) / Float(slice.planeSize)
            #expect(abs(mean - truthMean) / truthMean < 0.005, "slice \(k): mean \(mean) against the truth's \(truthMean)")
        }
        // Deterministic, and different from the gather model (which moves light near changes of height).
        let again = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        #expect(again.slices == stack.slices)
        settings.layering = .gather
        let gathered = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        #expect(gathered.slices != stack.slices)
        #expect(gathered.groundTruth == stack.groundTruth)
    }

    @Test("camera noise: mean and variance follow offset + gain·Poisson + read noise", arguments: [30.0, 300.0, 3000.0])
    func noiseStatistics(photons: Double) throws {
        // A bright field (specimen value 1) with a small dark block in one corner that fixes the
        // texture's normalisation; statistics are taken far from the block.
        var texture = Image(width: 64, height: 64, channels: 1, repeating: 1)
        for y in 0..<6 { for x in 0..<6 { texture.pixels[y * 64 + x] = 0 } }
        var settings = MicroscopeSimulation(slices: 4, photons: photons, seed: 9)
        settings.background = 0
        let stack = try MicroscopeSimulator(settings: settings).simulate(texture: texture)
        let gain = settings.effectiveGain
        var values: [Double] = []
        for slice in stack.slices { for y in 32..<64 { for x in 32..<64 { values.append(Double(slice.pixels[y * 64 + x])) } } }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
        let expectedMean = settings.offset + gain * photons
        let expectedVariance = gain * gain * (photons + settings.readNoise * settings.readNoise) + 1.0 / 12  // + rounding
        #expect(abs(mean - expectedMean) / expectedMean < 0.005, "mean \(mean), expected \(expectedMean)")
        #expect(abs(Double(stack.groundTruth.pixels[40 * 64 + 40]) - expectedMean) < 1e-3 * expectedMean)
        #expect(abs(variance - expectedVariance) / expectedVariance < 0.06, "variance \(variance), expected \(expectedVariance)")
    }

    @Test("the surface spans the requested part of the z range")
    func surfaceSpan() throws {
        var settings = MicroscopeSimulation(slices: 21, photons: 300, seed: 3)
        settings.span = 0.5
        let stack = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        let lo = stack.height.values.min()!, hi = stack.height.values.max()!
        #expect(abs(lo - 5) < 0.01 && abs(hi - 15) < 0.01)
    }

    @Test("a selection pair keeps, per pixel, the measured pixel nearer the surface")
    func selectionPair() throws {
        let stack = try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 8, photons: 300, seed: 4)).simulate(texture: testTexture())
        let pair = stack.selectionPair(slice: 5)
        for p in stride(from: 0, to: 4096, by: 37) {
            let h = stack.height.values[p]
            let best = min(max(Int(h.rounded()), 0), 4)
            #expect(pair.source1.pixels[p] == stack.slices[best].pixels[p])
            let expected = abs(Float(best) - h) <= abs(5 - h) ? stack.slices[best].pixels[p] : stack.slices[5].pixels[p]
            #expect(pair.target.pixels[p] == expected)
        }
    }

    @Test("breathing and drift move every slice but N/2, whose frame is the ground truth's")
    func referenceFrame() throws {
        var settings = MicroscopeSimulation(slices: 7, photons: 300, seed: 8)
        settings.breathing = 0.01
        settings.drift = 0.5
        let stack = try MicroscopeSimulator(settings: settings).simulate(texture: testTexture())
        let middle = stack.transforms[3]
        #expect(middle.scale == 1 && middle.dx == 0 && middle.dy == 0)
        #expect(abs(stack.transforms[6].scale - stack.transforms[0].scale - 0.01) < 1e-12)
        #expect(stack.transforms.contains { $0.dx != 0 })
        // The ground truth is the reference frame whatever the drift and breathing.
        var still = settings
        still.breathing = 0
        still.drift = 0
        let unmoved = try MicroscopeSimulator(settings: still).simulate(texture: testTexture())
        #expect(unmoved.groundTruth == stack.groundTruth)
    }

    @Test("a pair against given holders keeps, per pixel, the slice nearer the surface")
    func selectionPairAgainstHolders() throws {
        let stack = try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 8, photons: 300, seed: 4)).simulate(texture: testTexture())
        // Holders: a checkerboard of slices 1 and 6.
        let holders = (0..<4096).map { Int32(($0 / 64 + $0 % 64) % 2 == 0 ? 1 : 6) }
        let pair = stack.selectionPair(slice: 3, holders: holders)
        for p in stride(from: 0, to: 4096, by: 29) {
            let holder = Int(holders[p]), h = stack.height.values[p]
            #expect(pair.source1.pixels[p] == stack.slices[holder].pixels[p])
            #expect(pair.source2.pixels[p] == stack.slices[3].pixels[p])
            let keeps = abs(Float(holder) - h) <= abs(3 - h)
            #expect(pair.target.pixels[p] == (keeps ? stack.slices[holder] : stack.slices[3]).pixels[p])
            #expect(pair.mask[p] == (keeps ? 1 : 0))
        }
    }

    @Test("bad settings and textures are refused with a message")
    func refusals() {
        #expect(throws: SimulationError.self) { try MicroscopeSimulator(settings: MicroscopeSimulation(slices: 1)).simulate(texture: testTexture()) }
        let flat = Image(width: 32, height: 32, channels: 1, repeating: 7)
        #expect(throws: SimulationError.self) { try MicroscopeSimulator(settings: MicroscopeSimulation()).simulate(texture: flat) }
    }
}
