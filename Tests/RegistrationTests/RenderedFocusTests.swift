import Foundation
import Imaging
import Simulation
import Testing
@testable import Registration

/// Alignment against the stack's own specimen model (`AlignmentOptions.renderPasses`, issue 23).
@Suite struct RenderedFocusTests {
    /// A specimen of blurred points at one depth, seen through a Gaussian defocus of 1 px per slice:
    /// the LoG focus depth finds it everywhere (background included, through the weighted smoothing).
    @Test func findsTheDepthOfAFlatSpecimen() {
        let w = 64, h = 56, count = 7, depth = 3
        var specimen = [Float](repeating: 100, count: w * h)
        var state: UInt64 = 12345
        for _ in 0..<60 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let x = Int(state >> 33) % w, y = Int(state >> 13) % h
            specimen[y * w + x] += 400
        }
        specimen = PlaneBlur.gaussian(specimen, width: w, height: h, sigma: 0.8)
        let slices = (0..<count).map { PlaneBlur.gaussian(specimen, width: w, height: h, sigma: Double(abs($0 - depth))) }
        let estimate = FocusDepth.estimate(count: count, width: w, height: h, aligned: { slices[$0] })
        #expect(estimate.allSatisfy { abs($0 - Float(depth)) <= 0.25 }, "depth \(estimate.min()!)…\(estimate.max()!)")
    }

    /// A tilted sparse fluorescence specimen that breathes and drifts (the simulator's energy-conserving
    /// `scatter` blur): a direct fit against the reference is pulled by defocus; refitting against
    /// the stack's own specimen model (`DeconvolvedRefinement`) removes most of it.
    @Test func removesMostOfTheDefocusPull() throws {
        var texture = try TestData.read("train/microscopy/microtubules_16bit.tif")
        if texture.channels > 1 { texture = texture.channel(0) }
        texture = TestData.centre(texture, width: 128, height: 128)
        var settings = MicroscopeSimulation(modality: .fluorescence, slices: 12, photons: 300, seed: 7000)
        settings.breathing = 0.01
        settings.drift = 0.4
        settings.layering = .scatter
        settings.surfaceSteps = 1
        let simulated = try MicroscopeSimulator(settings: settings).simulate(texture: texture)
        func errors(_ passes: Int) throws -> [Double] {
            let options = AlignmentOptions(model: .translation, breathing: 0.01, renderPasses: passes)
            let result = try Aligner(options: options).align(simulated.stack)
            #expect(result.warnings.isEmpty)
            #expect((result.rendering != nil) == (passes > 0))
            if passes > 0 { #expect(result.rendering?.layering == "scatter", "layering chosen for a scatter stack") }
            return simulated.transforms.indices.filter { $0 != result.reference }.map { k in
                let t = simulated.transforms[k]
                let cx = Double(texture.width - 1) / 2, cy = Double(texture.height - 1) / 2, s = 1 / t.scale
                let truth = Affine(a: s, b: 0, tx: cx - s * cx - t.dx, c: 0, d: s, ty: cy - s * cy - t.dy)
                let estimate = Affine(rows: result.slices[k].matrix)!
                return [(0.0, 0.0), (Double(texture.width - 1), 0), (0, Double(texture.height - 1)),
                        (Double(texture.width - 1), Double(texture.height - 1))].map { x, y in
                    let a = truth.apply(x, y), b = estimate.apply(x, y)
                    return ((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)).squareRoot()
                }.max()!
            }.sorted()
        }
        let direct = try errors(0), rendered = try errors(3)
        let medianDirect = direct[direct.count / 2], medianRendered = rendered[rendered.count / 2]
        #expect(medianRendered <= 0.6 * medianDirect, "median corner error \(medianDirect) → \(medianRendered) px")
        #expect(rendered.last! < direct.last!, "max corner error \(direct.last!) → \(rendered.last!) px")
        // Measured 0.076 / 0.287 px (direct 0.151 / 1.289 px); issue 23's bar is 0.1 / 0.3 px.
        #expect(medianRendered <= 0.12 && rendered.last! <= 0.4, "corner error \(medianRendered) / \(rendered.last!) px")
    }

    /// Records written before the option existed decode, and options without it encode as before.
    @Test func optionsStayCompatible() throws {
        let old = #"{"model":"translation","estimateGainOffset":false,"keepSize":true,"minimumScore":0.2,"breathing":0.01}"#
        let decoded = try JSONDecoder().decode(AlignmentOptions.self, from: Data(old.utf8))
        #expect(decoded == AlignmentOptions(model: .translation, breathing: 0.01))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(AlignmentOptions(model: .translation, breathing: 0.01)), as: UTF8.self)
        #expect(!text.contains("renderPasses"))
        let withPasses = AlignmentOptions(model: .translation, renderPasses: 3)
        #expect(try JSONDecoder().decode(AlignmentOptions.self, from: try encoder.encode(withPasses)) == withPasses)
    }
}
