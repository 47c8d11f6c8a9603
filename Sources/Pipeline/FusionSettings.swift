import Fusion
import Imaging
import Registration

/// The fusion half of a profile: which engine fuses a stack, with which model and settings.
///
/// Decoded from flat snake_case keys (`engine`, `steps`, `projection`, …) in a profile or built from
/// `focusd fuse` flags; every key is optional and `FusionSettings()` is the shipped default. The
/// resolved value is recorded in every provenance sidecar.
public struct FusionSettings: Codable, Sendable, Equatable {
    /// The fusion engine.
    /// The values each enumerated profile key takes (for error messages that list them).
    public static let choices: [String: [String]] = [
        "engine": Engine.allCases.map(\.rawValue),
        "output_format": OutputFormat.allCases.map(\.rawValue),
        "composition": Composition.allCases.map(\.rawValue),
        "order": PairOrder.allCases.map(\.rawValue),
        "projection": ProjectionMode.allCases.map(\.rawValue),
        "align": TransformModel.allCases.map(\.rawValue),
        "decision": SelectionOptions.Decision.allCases.map(\.rawValue),
    ]

    public enum Engine: String, Codable, Sendable, CaseIterable {
        /// Classical Laplacian-pyramid fusion (baseline and fallback, no model).
        case reference
        /// 7×7 Laplacian-energy choose-max through the same projection as FusionDiff (no model).
        case control
        /// FusionDiff: the conditional diffusion model, pairwise and iterative.
        case fusiondiff
    }

    /// The sample format of the fused image.
    public enum OutputFormat: String, Codable, Sendable, CaseIterable {
        /// The stack's own format (16-bit in, 16-bit out).
        case same, uint8, uint16, float32
    }

    public var engine: Engine = .reference
    /// Model file for `fusiondiff` (safetensors). Relative paths are resolved against the profile's folder.
    public var model: String? = nil
    /// Sampler steps K (1…2000) for `fusiondiff`.
    public var steps: Int = 2
    /// Seed of the sampler's initial noise.
    public var seed: UInt64 = 0
    /// Symmetry views of each pair generated and averaged by `fusiondiff` (1…8; each one more
    /// model pass; see `SymmetryView`).
    public var views: Int = 1
    /// Pairwise order across the slices.
    public var order: PairOrder = .sequential
    /// Source-faithful projection of the generated image.
    public var projection: ProjectionOptions = ProjectionOptions()
    /// Slice alignment before fusion.
    public var alignment: AlignmentOptions = AlignmentOptions(model: .none)
    /// With `alignment.fitBreathing`: the daemon fits the breathing on this many of a drop folder's
    /// stacks (`reprocess` on the archive's first ones), then aligns every later stack with their
    /// median (`BreathingCalibration`), no longer fitting it; 0 (the default) fits it on every stack.
    /// `focusd fuse` fits per stack. `calibratingStacks` is the count in effect.
    public var breathingCalibrationStacks: Int = 0
    /// Tiling of model calls (0 = whole image).
    public var tiling: TileOptions = TileOptions(size: 0, overlap: 32)
    /// Worker threads for the numerical kernels (0 = all cores).
    public var threads: Int = 0
    public var outputFormat: OutputFormat = .same
    /// With an integer `outputFormat` that differs from the stack's: the input values mapped onto the
    /// format's full range. nil maps the fused image's own minimum…maximum (narrowing) or full range
    /// onto full range (uint8 → uint16); see `FusionPipeline.convert`.
    public var outputWindow: OutputWindow? = nil
    /// Multi-channel stacks: one output file per channel (`_c0`, `_c1`, …) instead of one
    /// multi-channel image (an ImageJ hyperstack or OME-TIFF with C channels and Z = 1).
    public var splitChannels: Bool = false
    /// How N slices become one image: `selection` decides between measured slices and composes
    /// once (the default; ARCHITECTURE.md, "Decide between sources, compose once"); `pairwise` fuses the
    /// running fused image with each next slice (the earlier design, needed for `projection: soft`
    /// and `none`, which output generated or averaged images).
    public var composition: Composition = .selection
    /// Decisions and composition of `selection`.
    public var selection: SelectionOptions = SelectionOptions()

    /// The N-slice design (see `composition`).
    public enum Composition: String, Codable, Sendable, CaseIterable {
        case selection, pairwise
    }

    public init() {}

    /// The profile keys this type reads, for unknown-key checks by the profile loader.
    public static let keys: [String] = CodingKeys.allCases.map(\.rawValue)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case engine, model, steps, seed, views, order
        case projection, projectionWindow = "projection_window", islandFraction = "island_fraction"
        case bandRadius = "band_radius", bandEpsilon = "band_epsilon"
        case align, alignReference = "align_reference", gainOffset = "gain_offset", keepSize = "keep_size"
        case minimumAlignScore = "min_align_score", alignBreathing = "align_breathing"
        case alignRenderPasses = "align_render_passes", alignFitBreathing = "align_fit_breathing"
        case alignCalibrateBreathing = "align_calibrate_breathing"
        case tileSize = "tile_size", tileOverlap = "tile_overlap"
        case threads, outputFormat = "output_format", outputWindow = "output_window", splitChannels = "split_channels"
        case composition, decision, decisionChannel = "decision_channel", evidenceSigma = "evidence_sigma"
        case evidenceWindow = "evidence_window", decisiveSpread = "decisive_spread", medianRadius = "median_radius"
        case surfaceRadius = "surface_radius", modelScale = "model_scale"
        case fineWindow = "fine_window", fineThreshold = "fine_threshold"
        case depthOfField = "depth_of_field", noiseTolerance = "noise_tolerance"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FusionSettings()
        engine = try c.decodeIfPresent(Engine.self, forKey: .engine) ?? d.engine
        model = try c.decodeIfPresent(String.self, forKey: .model)
        steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        views = try c.decodeIfPresent(Int.self, forKey: .views) ?? d.views
        order = try c.decodeIfPresent(PairOrder.self, forKey: .order) ?? d.order
        projection.mode = try c.decodeIfPresent(ProjectionMode.self, forKey: .projection) ?? d.projection.mode
        projection.window = try c.decodeIfPresent(Int.self, forKey: .projectionWindow) ?? d.projection.window
        projection.islandFraction = try c.decodeIfPresent(Double.self, forKey: .islandFraction) ?? d.projection.islandFraction
        projection.bandRadius = try c.decodeIfPresent(Int.self, forKey: .bandRadius) ?? d.projection.bandRadius
        projection.bandEpsilon = try c.decodeIfPresent(Double.self, forKey: .bandEpsilon) ?? d.projection.bandEpsilon
        alignment.model = try c.decodeIfPresent(TransformModel.self, forKey: .align) ?? d.alignment.model
        alignment.reference = try c.decodeIfPresent(Int.self, forKey: .alignReference)
        alignment.estimateGainOffset = try c.decodeIfPresent(Bool.self, forKey: .gainOffset) ?? d.alignment.estimateGainOffset
        alignment.keepSize = try c.decodeIfPresent(Bool.self, forKey: .keepSize) ?? d.alignment.keepSize
        alignment.minimumScore = try c.decodeIfPresent(Double.self, forKey: .minimumAlignScore) ?? d.alignment.minimumScore
        alignment.breathing = try c.decodeIfPresent(Double.self, forKey: .alignBreathing) ?? d.alignment.breathing
        alignment.renderPasses = try c.decodeIfPresent(Int.self, forKey: .alignRenderPasses) ?? d.alignment.renderPasses
        alignment.fitBreathing = try c.decodeIfPresent(Bool.self, forKey: .alignFitBreathing) ?? d.alignment.fitBreathing
        breathingCalibrationStacks = try c.decodeIfPresent(Int.self, forKey: .alignCalibrateBreathing) ?? d.breathingCalibrationStacks
        tiling.size = try c.decodeIfPresent(Int.self, forKey: .tileSize) ?? d.tiling.size
        tiling.overlap = try c.decodeIfPresent(Int.self, forKey: .tileOverlap) ?? d.tiling.overlap
        threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
        outputFormat = try c.decodeIfPresent(OutputFormat.self, forKey: .outputFormat) ?? d.outputFormat
        outputWindow = try c.decodeIfPresent(OutputWindow.self, forKey: .outputWindow)
        splitChannels = try c.decodeIfPresent(Bool.self, forKey: .splitChannels) ?? false
        composition = try c.decodeIfPresent(Composition.self, forKey: .composition)
            ?? (projection.mode == .decision ? .selection : .pairwise)
        let ds = d.selection
        selection.decision = try c.decodeIfPresent(SelectionOptions.Decision.self, forKey: .decision) ?? ds.decision
        selection.decisionChannel = try c.decodeIfPresent(SelectionOptions.DecisionChannel.self, forKey: .decisionChannel) ?? ds.decisionChannel
        selection.evidenceSigma = try c.decodeIfPresent(Double.self, forKey: .evidenceSigma) ?? ds.evidenceSigma
        selection.evidenceWindow = try c.decodeIfPresent(Int.self, forKey: .evidenceWindow) ?? ds.evidenceWindow
        selection.decisiveSpread = try c.decodeIfPresent(Double.self, forKey: .decisiveSpread) ?? ds.decisiveSpread
        selection.medianRadius = try c.decodeIfPresent(Int.self, forKey: .medianRadius) ?? ds.medianRadius
        selection.fineWindow = try c.decodeIfPresent(Int.self, forKey: .fineWindow) ?? ds.fineWindow
        selection.fineThreshold = try c.decodeIfPresent(Double.self, forKey: .fineThreshold) ?? ds.fineThreshold
        selection.modelScale = try c.decodeIfPresent(Int.self, forKey: .modelScale) ?? ds.modelScale
        selection.surfaceRadius = try c.decodeIfPresent(Int.self, forKey: .surfaceRadius) ?? ds.surfaceRadius
        selection.depthOfField = try c.decodeIfPresent(Double.self, forKey: .depthOfField) ?? ds.depthOfField
        selection.noiseTolerance = try c.decodeIfPresent(Double.self, forKey: .noiseTolerance) ?? ds.noiseTolerance
        try validate()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(engine, forKey: .engine)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encode(steps, forKey: .steps)
        try c.encode(seed, forKey: .seed)
        // Written only when used, so settings (and profile fingerprints) from before the key are unchanged.
        if views != 1 { try c.encode(views, forKey: .views) }
        try c.encode(order, forKey: .order)
        try c.encode(projection.mode, forKey: .projection)
        try c.encode(projection.window, forKey: .projectionWindow)
        try c.encode(projection.islandFraction, forKey: .islandFraction)
        try c.encode(projection.bandRadius, forKey: .bandRadius)
        try c.encode(projection.bandEpsilon, forKey: .bandEpsilon)
        try c.encode(alignment.model, forKey: .align)
        try c.encodeIfPresent(alignment.reference, forKey: .alignReference)
        try c.encode(alignment.estimateGainOffset, forKey: .gainOffset)
        try c.encode(alignment.keepSize, forKey: .keepSize)
        try c.encode(alignment.minimumScore, forKey: .minimumAlignScore)
        try c.encode(alignment.breathing, forKey: .alignBreathing)
        // Only when used: profiles without it keep their fingerprints.
        if alignment.renderPasses != 0 { try c.encode(alignment.renderPasses, forKey: .alignRenderPasses) }
        if alignment.fitBreathing { try c.encode(alignment.fitBreathing, forKey: .alignFitBreathing) }
        if breathingCalibrationStacks != 0 { try c.encode(breathingCalibrationStacks, forKey: .alignCalibrateBreathing) }
        try c.encode(tiling.size, forKey: .tileSize)
        try c.encode(tiling.overlap, forKey: .tileOverlap)
        try c.encode(threads, forKey: .threads)
        try c.encode(outputFormat, forKey: .outputFormat)
        // Written only when set, so settings (and profile fingerprints) from before the key are unchanged.
        try c.encodeIfPresent(outputWindow, forKey: .outputWindow)
        // Only when set: profiles that keep the default keep their fingerprints.
        if splitChannels { try c.encode(splitChannels, forKey: .splitChannels) }
        try c.encode(composition, forKey: .composition)
        if composition == .selection {
            try c.encode(selection.decision, forKey: .decision)
            try c.encode(selection.decisionChannel, forKey: .decisionChannel)
            try c.encode(selection.evidenceSigma, forKey: .evidenceSigma)
            try c.encode(selection.evidenceWindow, forKey: .evidenceWindow)
            try c.encode(selection.decisiveSpread, forKey: .decisiveSpread)
            try c.encode(selection.medianRadius, forKey: .medianRadius)
            try c.encode(selection.fineWindow, forKey: .fineWindow)
            try c.encode(selection.fineThreshold, forKey: .fineThreshold)
            try c.encode(selection.modelScale, forKey: .modelScale)
            try c.encode(selection.surfaceRadius, forKey: .surfaceRadius)
            try c.encode(selection.depthOfField, forKey: .depthOfField)
            try c.encode(selection.noiseTolerance, forKey: .noiseTolerance)
        }
    }

    /// Checks value ranges.
    /// - Throws: `SettingsError` naming the key, the value and the allowed range.
    public func validate() throws(SettingsError) {
        func check(_ ok: Bool, _ key: CodingKeys, _ value: Any, _ allowed: String) throws(SettingsError) {
            if !ok { throw SettingsError(key: key.rawValue, message: "value \(value) is out of range; allowed: \(allowed)") }
        }
        try check((1...2000).contains(steps), .steps, steps, "1…2000")
        try check((1...SymmetryView.all.count).contains(views), .views, views, "1…\(SymmetryView.all.count)")
        try check(projection.window >= 1 && projection.window % 2 == 1, .projectionWindow, projection.window, "an odd number ≥ 1")
        try check(projection.islandFraction >= 0 && projection.islandFraction < 0.5, .islandFraction, projection.islandFraction, "0 ≤ f < 0.5")
        try check(projection.bandRadius >= 0, .bandRadius, projection.bandRadius, "≥ 0")
        try check(projection.bandEpsilon > 0, .bandEpsilon, projection.bandEpsilon, "> 0")
        try check(alignment.reference.map { $0 >= 0 } ?? true, .alignReference, alignment.reference ?? 0, "a slice index ≥ 0")
        try check((-1...1).contains(alignment.minimumScore), .minimumAlignScore, alignment.minimumScore, "−1…1")
        try check((0...20).contains(alignment.renderPasses), .alignRenderPasses, alignment.renderPasses, "0…20 passes")
        try check(!alignment.fitBreathing || (alignment.renderPasses > 0 && alignment.model == .translation), .alignFitBreathing,
                  alignment.fitBreathing, "true only with align: translation and align_render_passes > 0 (the breathing is fitted in those passes)")
        try check((0...1000).contains(breathingCalibrationStacks) && (breathingCalibrationStacks == 0 || alignment.fitBreathing),
                  .alignCalibrateBreathing, breathingCalibrationStacks,
                  "0 (fit on every stack) … 1000 stacks, and > 0 only with align_fit_breathing: true (the stacks' fits are what is calibrated)")
        try check(abs(alignment.breathing) <= 0.1, .alignBreathing, alignment.breathing, "−0.1…0.1 (a magnification change of at most 10 % across the stack)")
        try check(tiling.size == 0 || tiling.size >= 64, .tileSize, tiling.size, "0 (untiled) or ≥ 64")
        try check(tiling.overlap >= 0 && (tiling.size == 0 || tiling.overlap * 2 < tiling.size), .tileOverlap, tiling.overlap,
                  "≥ 0 and less than half the tile size")
        try check(threads >= 0 && threads <= 256, .threads, threads, "0 (all cores) … 256")
        try check(selection.evidenceSigma >= 0 && selection.evidenceSigma <= 8, .evidenceSigma, selection.evidenceSigma, "0…8 px")
        try check(selection.evidenceWindow >= 1 && selection.evidenceWindow % 2 == 1 && selection.evidenceWindow <= 63,
                  .evidenceWindow, selection.evidenceWindow, "an odd number 1…63")
        try check(selection.decisiveSpread >= 0, .decisiveSpread, selection.decisiveSpread, "≥ 0")
        try check((0...7).contains(selection.medianRadius), .medianRadius, selection.medianRadius, "0…7")
        try check(selection.fineWindow == 0 || (selection.fineWindow % 2 == 1 && selection.fineWindow < selection.evidenceWindow),
                  .fineWindow, selection.fineWindow, "0 (off) or an odd number below evidence_window")
        try check(selection.fineThreshold > 0, .fineThreshold, selection.fineThreshold, "> 0")
        try check((1...8).contains(selection.modelScale), .modelScale, selection.modelScale, "1…8")
        try check((0...64).contains(selection.surfaceRadius), .surfaceRadius, selection.surfaceRadius, "0…64 px")
        try check(selection.depthOfField >= 0 && selection.depthOfField <= 50, .depthOfField, selection.depthOfField, "0…50 slices")
        try check(selection.noiseTolerance > 0, .noiseTolerance, selection.noiseTolerance, "> 0")
        if let window = outputWindow {
            try check(window.low.isFinite && window.high.isFinite && window.low < window.high, .outputWindow,
                      "[\(window.low), \(window.high)]", "[LO, HI] with LO < HI")
            if outputFormat != .uint8 && outputFormat != .uint16 {
                throw SettingsError(key: CodingKeys.outputWindow.rawValue,
                                    message: "maps values onto an integer output format; set output_format to uint8 or uint16 (it is '\(outputFormat.rawValue)'), or remove output_window")
            }
        }
        if composition == .selection && projection.mode != .decision {
            throw SettingsError(key: CodingKeys.composition.rawValue,
                                message: "composition 'selection' decides between measured slices and needs projection 'decision'; use composition 'pairwise' for projection '\(projection.mode.rawValue)'")
        }
        if engine == .fusiondiff && (model ?? "").isEmpty {
            throw SettingsError(key: CodingKeys.model.rawValue,
                                message: "engine 'fusiondiff' needs a model file; set 'model' to a .safetensors path (e.g. models/focusd-default.safetensors)")
        }
    }
}

extension FusionSettings {
    /// How many stacks these settings calibrate the breathing over: `breathingCalibrationStacks` when
    /// the breathing is fitted at all, else 0.
    public var calibratingStacks: Int {
        alignment.fitBreathing ? breathingCalibrationStacks : 0
    }

    /// The settings a stack runs with once its drop folder's breathing is calibrated: the breathing
    /// fixed at `calibration`'s median and no longer fitted (nor calibrated further). Nil while the
    /// calibration has fewer fits than it takes, or when these settings do not calibrate.
    public func calibrated(by calibration: BreathingCalibration) -> FusionSettings? {
        guard calibratingStacks > 0, let breathing = calibration.breathing else { return nil }
        var settings = self
        settings.alignment = alignment.calibrated(breathing: breathing)
        settings.breathingCalibrationStacks = 0
        return settings
    }
}

/// A fusion setting with a bad value.
public struct SettingsError: Error, CustomStringConvertible, Sendable, Equatable {
    public let key: String
    public let message: String
    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { "setting '\(key)': \(message)" }
}
