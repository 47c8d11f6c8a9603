import Imaging

/// How N-slice fusion decides between sources and composes the output (ARCHITECTURE.md, "Decide between
/// sources, compose once"). Used by ``SliceSelectionEngine``.
public struct SelectionOptions: Codable, Sendable, Equatable {
    /// What decides each pairwise step between the pixel's current slice and the next.
    public enum Decision: String, Codable, Sendable, CaseIterable {
        /// The pair generator (FusionDiff, or the control's choose-max) through the decision
        /// projection, everywhere.
        case model
        /// Focus evidence alone (the larger LoG energy wins; no generator call).
        case evidence
        /// Focus evidence where it is decisive (the difference exceeds `decisiveSpread` standard
        /// deviations of its noise), the generator through the projection elsewhere.
        case gated
    }

    /// Which plane of a multi-channel slice focus is decided on.
    public enum DecisionChannel: Codable, Sendable, Equatable {
        /// BT.601 luminance of RGB, the channel mean of other multi-channel data.
        case luminance
        /// The channel with the most detail relative to its noise (measured on the middle slice).
        case mostSignal
        /// One channel by index.
        case index(Int)

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let value = Self(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not luminance, most-signal or a channel index"))
            }
            self = value
        }

        public init?(_ text: String) {
            switch text {
            case "luminance": self = .luminance
            case "most-signal": self = .mostSignal
            default:
                guard let n = Int(text), n >= 0 else { return nil }
                self = .index(n)
            }
        }

        public var text: String {
            switch self {
            case .luminance: "luminance"
            case .mostSignal: "most-signal"
            case let .index(n): String(n)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(text)
        }
    }

    public var decision: Decision
    public var decisionChannel: DecisionChannel
    /// Gaussian pre-smoothing σ (pixels) of the focus evidence's Laplacian.
    public var evidenceSigma: Double
    /// Box window (pixels, odd) of the focus evidence.
    public var evidenceWindow: Int
    /// A second, fine evidence window (pixels, odd; 0 = none) whose decisions replace the coarse
    /// window's where they stand `fineThreshold` standard deviations above the pixel's mean fine
    /// evidence over all slices: sharp steps of the specimen, where the coarse window straddles two
    /// heights, with detail bright enough to decide over a few pixels.
    public var fineWindow: Int
    /// See `fineWindow`.
    public var fineThreshold: Double
    /// With `gated`: evidence decides where the two sources differ by more than this many standard
    /// deviations of the evidence's noise.
    public var decisiveSpread: Double
    /// The generator decides at 1/`modelScale` resolution (box means of the pair; the decision is
    /// upsampled): 1 = full resolution, 2 = a quarter of the pixels (about 4× faster, and 2×2 means
    /// halve the photon noise the model sees).
    public var modelScale: Int
    /// Radius of the median filter applied to the slice-index map after the decisions (0 = none).
    public var medianRadius: Int
    /// Radius (pixels) of the window from which untextured pixels take their slice from the
    /// surrounding well-measured surface (0 = keep every pixel's own decision).
    public var surfaceRadius: Int
    /// Noise blending: slices within this many slices of the chosen one are blended in, weighted
    /// by how well their focus evidence matches the chosen slice's within its noise (0 = pure
    /// selection with boundary bands).
    public var depthOfField: Double
    /// Noise blending: a slice whose evidence is `noiseTolerance` standard deviations below the
    /// chosen slice's gets weight e^(−½).
    public var noiseTolerance: Double

    public init(decision: Decision = .model, decisionChannel: DecisionChannel = .luminance,
                evidenceSigma: Double = 1.0, evidenceWindow: Int = 9, fineWindow: Int = 3, fineThreshold: Double = 2,
                decisiveSpread: Double = 3,
                modelScale: Int = 1, medianRadius: Int = 1, surfaceRadius: Int = 6, depthOfField: Double = 2, noiseTolerance: Double = 1.5) {
        self.decision = decision
        self.decisionChannel = decisionChannel
        self.evidenceSigma = evidenceSigma
        self.evidenceWindow = evidenceWindow
        self.fineWindow = fineWindow
        self.fineThreshold = fineThreshold
        self.decisiveSpread = decisiveSpread
        self.modelScale = modelScale
        self.medianRadius = medianRadius
        self.surfaceRadius = surfaceRadius
        self.depthOfField = depthOfField
        self.noiseTolerance = noiseTolerance
    }

    /// - Throws: `FusionError.invalidOptions` naming the bad value.
    public func validate() throws {
        guard evidenceSigma >= 0 && evidenceSigma <= 8 else { throw FusionError.invalidOptions("evidence sigma \(evidenceSigma) must be 0…8 px") }
        guard evidenceWindow >= 1 && evidenceWindow % 2 == 1 && evidenceWindow <= 63 else {
            throw FusionError.invalidOptions("evidence window \(evidenceWindow) must be odd, 1…63")
        }
        guard fineWindow == 0 || (fineWindow % 2 == 1 && fineWindow < evidenceWindow) else {
            throw FusionError.invalidOptions("fine window \(fineWindow) must be 0 or odd and smaller than the evidence window \(evidenceWindow)")
        }
        guard fineThreshold > 0 else { throw FusionError.invalidOptions("fine threshold \(fineThreshold) must be > 0") }
        guard decisiveSpread >= 0 else { throw FusionError.invalidOptions("decisive spread \(decisiveSpread) must be ≥ 0") }
        guard modelScale >= 1 && modelScale <= 8 else { throw FusionError.invalidOptions("model scale \(modelScale) must be 1…8") }
        guard medianRadius >= 0 && medianRadius <= 7 else { throw FusionError.invalidOptions("median radius \(medianRadius) must be 0…7") }
        guard surfaceRadius >= 0 && surfaceRadius <= 64 else { throw FusionError.invalidOptions("surface radius \(surfaceRadius) must be 0…64 px") }
        guard depthOfField >= 0 && depthOfField <= 50 else { throw FusionError.invalidOptions("depth of field \(depthOfField) must be 0…50 slices") }
        guard noiseTolerance > 0 else { throw FusionError.invalidOptions("noise tolerance \(noiseTolerance) must be > 0") }
        if case let .index(n) = decisionChannel, n < 0 { throw FusionError.invalidOptions("decision channel \(n) must be ≥ 0") }
    }
}
