import Foundation
import Imaging

/// Aligns every slice of a stack to a reference slice.
///
/// Method: the enhanced correlation coefficient between luminance images, maximised by an
/// inverse-compositional Gauss–Newton fit (`CorrelationFit`) coarse to fine on a pyramid, from an
/// integer shift search on the coarsest level to sub-pixel convergence on the finest level
/// estimated (full resolution up to `maximumEstimationPixels`, a halving above). Slices are
/// processed outward from the reference in two chains (below and above it, concurrently); each
/// starts from its neighbour's transform and is refined against the reference itself, so the
/// far ends of deep stacks, whose focus differs most from the reference, still converge.
/// Memory: the reference pyramid and one slice per chain.
public struct Aligner: Sendable {
    public var options: AlignmentOptions
    /// The finest pyramid level fitted is the first with at most this many pixels.
    public var maximumEstimationPixels: Int = 700_000

    public init(options: AlignmentOptions = AlignmentOptions()) {
        self.options = options
    }

    /// Estimates one transform per slice.
    /// - Throws: `RegistrationError` for an empty stack or a reference out of range; whatever
    ///   the source throws when a slice cannot be read.
    public func align(_ stack: any SliceSource) throws -> AlignmentResult {
        let count = stack.count
        guard count > 0 else { throw RegistrationError.emptyStack }
        let reference = options.reference ?? count / 2
        guard (0..<count).contains(reference) else {
            throw RegistrationError.referenceOutOfRange(reference: reference, count: count)
        }
        let width = stack.geometry.width, height = stack.geometry.height
        if options.model == .none || count == 1 {
            var result = AlignmentResult.identity(count: count, width: width, height: height, reference: reference)
            result.model = options.model
            return result
        }
        let plan = PyramidPlan(width: width, height: height, maximumEstimationPixels: maximumEstimationPixels)
        let referencePyramid = LuminancePyramid(image: try stack.slice(at: reference), coarsest: plan.coarsest)
        let templates = (plan.finest...plan.coarsest).map {
            TemplateLevel(image: referencePyramid.levels[$0], level: $0, model: options.model, fullWidth: width, fullHeight: height)
        }
        let referenceBlank = SliceEstimator.isBlank(referencePyramid.levels[plan.finest])
        let estimator = SliceEstimator(options: options, plan: plan, templates: templates)

        var slices = [SliceTransform?](repeating: nil, count: count)
        slices[reference] = SliceTransform.identity(index: reference)
        // What the refinement against the specimen model starts from, kept as the chains go: each slice's
        // finest estimation level and its fitted warp (nil: left unaligned).
        let refines = options.renderPasses > 0 && count > 2 && !referenceBlank
        var finestPlanes = [Plane?](repeating: nil, count: count)
        var warps = [Affine?](repeating: nil, count: count)
        if refines {
            finestPlanes[reference] = referencePyramid.levels[plan.finest]
            warps[reference] = .identity
        }
        let chains = [Array((0..<reference).reversed()), Array((reference + 1)..<count)]
        var errors = [(any Error)?](repeating: nil, count: 2)
        slices.withUnsafeMutableBufferPointer { sliceBuffer in
        errors.withUnsafeMutableBufferPointer { errorBuffer in
        finestPlanes.withUnsafeMutableBufferPointer { planeBuffer in
        warps.withUnsafeMutableBufferPointer { warpBuffer in
            let out = SharedPointer(base: sliceBuffer.baseAddress!), errorOut = SharedPointer(base: errorBuffer.baseAddress!)
            let planeOut = SharedPointer(base: planeBuffer.baseAddress!), warpOut = SharedPointer(base: warpBuffer.baseAddress!)
            Parallel.run(chunks: 2) { chain in
                var previous = Affine.identity   // reference → slice, level-0 centred coordinates
                for index in chains[chain] {
                    let name = stack.sliceName(at: index)
                    if referenceBlank {
                        out.base[index] = SliceEstimator.unaligned(index: index, name: name,
                            reason: "the reference slice \(reference) (\(stack.sliceName(at: reference))) is blank, so nothing can be aligned to it; choose another --reference")
                        continue
                    }
                    let image: Image
                    do {
                        image = try stack.slice(at: index)
                    } catch {
                        errorOut.base[chain] = error
                        return
                    }
                    if options.breathing != 0 {
                        // The known magnification replaces the neighbour's linear part; its shift stays.
                        let scale = options.breathingScale(of: index, reference: reference, count: count)
                        previous = Affine(a: scale, b: 0, tx: previous.tx, c: 0, d: scale, ty: previous.ty)
                    }
                    let pyramid = LuminancePyramid(image: image, coarsest: plan.coarsest)
                    let outcome = estimator.estimate(pyramid: pyramid, initial: previous, index: index, name: name)
                    out.base[index] = outcome.transform
                    if outcome.transform.aligned { previous = outcome.warp }
                    if refines {
                        planeOut.base[index] = pyramid.levels[plan.finest]
                        warpOut.base[index] = outcome.transform.aligned ? outcome.warp : nil
                    }
                }
            }
        }}}}
        if let error = errors.compactMap({ $0 }).first { throw error }
        var rendering: AlignmentResult.RenderingRecord?
        if refines {
            rendering = refineAgainstSpecimenModel(planes: finestPlanes.map { $0! }, warps: warps, slices: &slices,
                                                   level: plan.finest, reference: reference, width: width, height: height)
        }

        var result = AlignmentResult(reference: reference, model: options.model, width: width, height: height,
                                     crop: [0, 0, width, height], slices: slices.map { $0! })
        result.rendering = rendering
        if options.keepSize {
            result.padding = PaddedBorder.plan(for: result)
        } else {
            let matrices = result.slices.filter(\.aligned).compactMap { Affine(rows: $0.matrix) }
            result.crop = CommonCrop.rectangle(width: width, height: height, sliceToReference: matrices) ?? [0, 0, width, height]
        }
        return result
    }
}

extension Aligner {
    /// Runs `DeconvolvedRefinement` on the slices aligned so far and replaces their matrices.
    /// - Parameters:
    ///   - planes: every slice's luminance at the finest estimation level.
    ///   - warps: reference → slice in centred coordinates, as the fits left them; nil for slices left unaligned.
    func refineAgainstSpecimenModel(planes: [Plane], warps: [Affine?], slices: inout [SliceTransform?], level: Int,
                                    reference: Int, width: Int, height: Int) -> AlignmentResult.RenderingRecord {
        let cx = (Double(width) - 1) / 2, cy = (Double(height) - 1) / 2
        let refinement = DeconvolvedRefinement(passes: options.renderPasses, level: level, reference: reference)
        let fitted = options.fitBreathing && options.model == .translation ? options.breathing : nil
        let refined = refinement.refine(planes: planes, warps: warps, fullWidth: width, fullHeight: height, breathing: fitted)
        for k in slices.indices where k != reference {
            guard let warp = refined.warps[k], let sliceToReference = warp.shiftedOrigin(cx, cy).inverse else { continue }
            slices[k]?.matrix = sliceToReference.rows
        }
        return AlignmentResult.RenderingRecord(passes: options.renderPasses, defocusPerSlice: refined.growth * Double(1 << level),
                                               layering: refined.layering.rawValue, breathing: fitted == nil ? nil : refined.breathing)
    }
}

/// Which pyramid levels are fitted for a given slice size.
struct PyramidPlan: Sendable {
    /// The coarsest level: the smallest image whose shorter side is still ≥ 32 pixels (≤ 8).
    let coarsest: Int
    /// The finest level fitted: the first with at most `maximumEstimationPixels` pixels.
    let finest: Int

    init(width: Int, height: Int, maximumEstimationPixels: Int) {
        var coarsest = 0
        while coarsest < 8 && min(width, height) >> (coarsest + 1) >= 32 { coarsest += 1 }
        var finest = 0
        while finest < coarsest && (width >> finest) * (height >> finest) > maximumEstimationPixels { finest += 1 }
        self.coarsest = coarsest
        self.finest = finest
    }

}
