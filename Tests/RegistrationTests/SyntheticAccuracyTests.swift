import Simulation
import Testing
import Imaging
@testable import Registration

/// Issue 10's accuracy figures on stacks made from a real image: each slice a view through a known
/// similarity (scale 0.98–1.02, rotation within ±0.5°, drift within ±30 px), defocused where a
/// smooth depth map is far from its focal plane, plus noise.
///
/// The defocus strength (σ up to 2 px) is set so OpenCV's ECC (findTransformECC, affine, started
/// at the true transform) scores 0.05–0.10 px median / 0.07–0.20 px max on these stacks, the
/// band issue 10 quotes for it.
@Suite struct SyntheticAccuracyTests {
    static func stack(_ base: Image, slices: Int, size: Int, seed: UInt64) -> SyntheticFocusStack {
        var configuration = SyntheticFocusStack.Configuration(sliceCount: slices, width: size, height: size)
        configuration.maximumBlur = 2
        configuration.noise = 2
        configuration.baseScale = 2
        configuration.seed = seed
        return SyntheticFocusStack(base: base, configuration: configuration)
    }

    @Test(arguments: [(9, UInt64(1)), (31, UInt64(3))])
    func greySimilarityStack(slices: Int, seed: UInt64) throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 896, height: 896))
        let synthetic = Self.stack(base, slices: slices, size: 256, seed: seed)
        let result = try Aligner().align(try materialise(synthetic))
        let errors = cornerErrors(result, truth: synthetic)
        #expect(result.warnings.isEmpty)
        #expect(median(errors) <= 0.05, "median corner error \(median(errors)) px")
        #expect(errors.max()! <= 0.15, "worst corner error \(errors.max()!) px")
        #expect(result.model == .similarity && result.reference == slices / 2)
    }

    @Test func rgbSimilarityStack() throws {
        let base = TestData.centre(try TestData.circuitBoard(), width: 896, height: 896)
        let synthetic = Self.stack(base, slices: 9, size: 256, seed: 2)
        let stack = try materialise(synthetic)
        #expect(stack.geometry.channels == 3)
        let result = try Aligner().align(stack)
        let errors = cornerErrors(result, truth: synthetic)
        #expect(median(errors) <= 0.05, "median corner error \(median(errors)) px")
        #expect(errors.max()! <= 0.15, "worst corner error \(errors.max()!) px")
    }

    /// Bright structure on a dark field (the 16-bit light-sheet stack), drift and rotation but no
    /// breathing: the similarity model must not invent a scale change (an affine fit drifts by
    /// pixels here). Rendered from the slice at its own resolution, so defocus is milder (σ ≤ 1.5).
    @Test func sparseFluorescenceStackKeepsScale() throws {
        let mitochondria = try TestData.read("dev/stacks/dfnn_lightsheet_mitochondria/slice_017.tif")
        #expect(mitochondria.channels == 1)
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 15, width: 256, height: 320)
        configuration.breathing = 0
        configuration.maximumBlur = 1.5
        configuration.noise = 5
        configuration.format = .uint16
        configuration.seed = 5
        let synthetic = SyntheticFocusStack(base: mitochondria, configuration: configuration)
        let result = try Aligner().align(try materialise(synthetic))
        let errors = cornerErrors(result, truth: synthetic)
        #expect(result.warnings.isEmpty)
        #expect(median(errors) <= 0.1, "median corner error \(median(errors)) px")
        for slice in result.slices {
            let scale = Affine(rows: slice.matrix)!.scale
            #expect(abs(scale - 1) <= 1e-3, "slice \(slice.index): scale \(scale)")
        }
    }

    /// A known breathing (issue 23): with translation the scale comes from the calibration, not the
    /// fit, and a similarity alignment of a textured stack recovers that calibration.
    @Test func knownBreathingWithTranslation() throws {
        let base = TestData.grey(TestData.centre(try TestData.circuitBoard(), width: 448, height: 448))
        var configuration = SyntheticFocusStack.Configuration(sliceCount: 11, width: 256, height: 256)
        configuration.breathing = 0.01   // slice → base scale 0.99 … 1.01: content magnification falls ~2 %
        configuration.maximumRotationDegrees = 0
        configuration.maximumDrift = 10
        configuration.seed = 7
        let synthetic = SyntheticFocusStack(base: base, configuration: configuration)
        let stack = try materialise(synthetic)
        let calibration = try #require(try Aligner().align(stack).fittedBreathing)
        #expect(abs(calibration + 0.02) <= 0.002, "fitted breathing \(calibration)")
        let plain = cornerErrors(try Aligner(options: AlignmentOptions(model: .translation)).align(stack), truth: synthetic)
        let known = cornerErrors(try Aligner(options: AlignmentOptions(model: .translation, breathing: calibration)).align(stack),
                                 truth: synthetic)
        #expect(plain.max()! >= 1, "translation alone leaves the breathing: \(plain.max()!) px")
        #expect(median(known) <= 0.1 && known.max()! <= 0.3, "median \(median(known)) px, max \(known.max()!) px")
    }
}
