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
        let (simulated, texture) = try Self.tiltedMicrotubules(breathing: 0.01, layering: .scatter)
        func errors(_ passes: Int) throws -> [Double] {
            let options = AlignmentOptions(model: .translation, breathing: 0.01, renderPasses: passes)
            let result = try Aligner(options: options).align(simulated.stack)
            #expect(result.warnings.isEmpty)
            #expect((result.rendering != nil) == (passes > 0))
            if passes > 0 { #expect(result.rendering?.layering == "scatter", "layering chosen for a scatter stack") }
            return cornerErrors(result, simulated, texture)
        }
        let direct = try errors(0), rendered = try errors(3)
        let medianDirect = direct[direct.count / 2], medianRendered = rendered[rendered.count / 2]
        #expect(medianRendered <= 0.6 * medianDirect, "median corner error \(medianDirect) → \(medianRendered) px")
        #expect(rendered.last! < direct.last!, "max corner error \(direct.last!) → \(rendered.last!) px")
        // Measured 0.076 / 0.287 px (direct 0.151 / 1.289 px); issue 23's bar is 0.1 / 0.3 px.
        #expect(medianRendered <= 0.12 && rendered.last! <= 0.4, "corner error \(medianRendered) / \(rendered.last!) px")
    }

    /// Such a stack (2 % breathing, the default `gather` blur) with its breathing not given
    /// (`fitBreathing`, starting from 0): the passes fit one breathing for the stack against the
    /// model, close to the simulator's, and align better than the direct fit that assumes none.
    @Test func fitsTheBreathingItIsNotGiven() throws {
        let (simulated, texture) = try Self.tiltedMicrotubules(breathing: 0.02, layering: .gather)
        let direct = try Aligner(options: AlignmentOptions(model: .translation)).align(simulated.stack)
        let fitted = try Aligner(options: AlignmentOptions(model: .translation, renderPasses: 4, fitBreathing: true)).align(simulated.stack)
        #expect(direct.rendering == nil)
        let breathing = try #require(fitted.rendering?.breathing)
        #expect(abs(breathing - 0.02) <= 0.005, "fitted breathing \(breathing)")
        // Every slice's scale follows the one fitted breathing.
        for slice in fitted.slices where slice.index != fitted.reference {
            let m = try #require(Affine(rows: slice.matrix))
            let expected = AlignmentOptions.breathingScale(breathing, of: slice.index, reference: fitted.reference, count: 12)
            #expect(abs(1 / m.scale - expected) < 1e-9)
        }
        let errorsDirect = cornerErrors(direct, simulated, texture), errorsFitted = cornerErrors(fitted, simulated, texture)
        #expect(errorsFitted[errorsFitted.count / 2] <= 0.5 * errorsDirect[errorsDirect.count / 2],
                "median corner error \(errorsDirect[errorsDirect.count / 2]) → \(errorsFitted[errorsFitted.count / 2]) px")
    }

    /// The scale-and-shift fit against a target recovers a known magnification and shift of a textured plane.
    @Test func placementFitRecoversScaleAndShift() {
        let w = 96, h = 80
        var state: UInt64 = 99
        var specimen = [Float](repeating: 50, count: w * h)
        for _ in 0..<300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            specimen[Int(state >> 33) % (w * h)] += 800
        }
        specimen = PlaneBlur.gaussian(specimen, width: w, height: h, sigma: 1.5)
        let ox = Double(w - 1) / 2, oy = Double(h - 1) / 2
        let plane = Plane(width: w, height: h, data: specimen)
        // The slice shows the target magnified 1.5 % and shifted by (0.7, −0.4) reference pixels.
        let truth = Affine(a: 1.015, b: 0, tx: 1.015 * 0.7, c: 0, d: 1.015, ty: 1.015 * -0.4)
        let target = specimen.map(Double.init)
        let slice = Plane(width: w, height: h, data: DeconvolvedRefinement.resample(plane, warp: truth.inverse!, originX: ox, originY: oy))
        let weight = DeconvolvedRefinement.interiorMask(width: w, height: h).map { $0 ? 1.0 : 0.0 }
        let fit = DeconvolvedRefinement.placementFit(plane: slice, target: target, warp: .identity, weight: weight,
                                                     originX: ox, originY: oy, fitsScale: true)
        #expect(abs((fit?.scale ?? 0) - 1.015) < 5e-4, "scale \(fit?.scale ?? 0)")
        #expect(abs((fit?.dx ?? 0) - 0.7) < 0.03 && abs((fit?.dy ?? 0) + 0.4) < 0.03, "shift \(fit?.dx ?? 0), \(fit?.dy ?? 0)")
        #expect(fit?.scaleVariance.map { $0 > 0 } == true)
        let shiftOnly = DeconvolvedRefinement.placementFit(plane: slice, target: target, warp: .identity, weight: weight,
                                                           originX: ox, originY: oy, fitsScale: false)
        #expect(shiftOnly?.scale == 1 && shiftOnly?.scaleVariance == nil)
    }

    /// One breathing from slices' magnifications: an exact line is recovered whatever the weights.
    @Test func breathingSlopeRecoversALine() {
        let count = 9, reference = 4, breathing = 0.012
        let samples = (0..<count).filter { $0 != reference }.map { k in
            (index: k, magnification: 1 + breathing * Double(k - reference) / Double(count - 1), weight: 1 / (1 + Double(k)))
        }
        #expect(abs(AlignmentOptions.breathing(fromMagnifications: samples, reference: reference, count: count)! - breathing) < 1e-12)
        #expect(AlignmentOptions.breathing(fromMagnifications: Array(samples.prefix(1)), reference: reference, count: count) == nil)
    }

    /// `slices` of a `size`² microtubules crop on a tilted surface (one step), 300 photons.
    static func tiltedMicrotubules(size: Int = 128, slices: Int = 12, breathing: Double, drift: Double = 0.4,
                                   layering: MicroscopeSimulation.Layering) throws -> (SimulatedStack, Image) {
        var texture = try TestData.read("train/microscopy/microtubules_16bit.tif")
        if texture.channels > 1 { texture = texture.channel(0) }
        texture = TestData.centre(texture, width: size, height: size)
        var settings = MicroscopeSimulation(modality: .fluorescence, slices: slices, photons: 300, seed: 7000)
        settings.breathing = breathing
        settings.drift = drift
        settings.layering = layering
        settings.surfaceSteps = 1
        return (try MicroscopeSimulator(settings: settings).simulate(texture: texture), texture)
    }

    /// Corner error per slice (reference left out), sorted.
    private func cornerErrors(_ result: AlignmentResult, _ simulated: SimulatedStack, _ texture: Image) -> [Double] {
        simulated.transforms.indices.filter { $0 != result.reference }.map { k in
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

    /// Records written before the option existed decode, and options without it encode as before.
    @Test func optionsStayCompatible() throws {
        let old = #"{"model":"translation","estimateGainOffset":false,"keepSize":true,"minimumScore":0.2,"breathing":0.01}"#
        let decoded = try JSONDecoder().decode(AlignmentOptions.self, from: Data(old.utf8))
        #expect(decoded == AlignmentOptions(model: .translation, breathing: 0.01))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(AlignmentOptions(model: .translation, breathing: 0.01)), as: UTF8.self)
        #expect(!text.contains("renderPasses"))
        #expect(!text.contains("fitBreathing"))
        let withPasses = AlignmentOptions(model: .translation, renderPasses: 3)
        #expect(try JSONDecoder().decode(AlignmentOptions.self, from: try encoder.encode(withPasses)) == withPasses)
        let fitting = AlignmentOptions(model: .translation, renderPasses: 3, fitBreathing: true)
        #expect(try JSONDecoder().decode(AlignmentOptions.self, from: try encoder.encode(fitting)) == fitting)
    }
}
