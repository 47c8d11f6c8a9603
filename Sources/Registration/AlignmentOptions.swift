/// The family of transforms fitted from each slice to the reference slice.
public enum TransformModel: String, Codable, Sendable, CaseIterable {
    /// No alignment: every slice is used as read.
    case none
    /// Shift only (2 parameters).
    case translation
    /// Uniform scale, rotation and shift (4 parameters): stage drift, rotation and focus breathing.
    case similarity
    /// General affine map (6 parameters). Badly conditioned on sparse images (bright structure on a
    /// dark field); prefer `similarity` unless the optics shear.
    case affine

    /// Number of warp parameters estimated.
    var parameterCount: Int {
        switch self {
        case .none: 0
        case .translation: 2
        case .similarity: 4
        case .affine: 6
        }
    }
}

/// What `Aligner` fits and how it reports the result.
public struct AlignmentOptions: Sendable, Codable, Equatable {
    /// The transform family (default `similarity`).
    public var model: TransformModel
    /// The 0-based reference slice every slice is mapped onto; `nil` picks the middle slice
    /// (`count / 2`).
    public var reference: Int?
    /// Also estimate a per-slice brightness gain and offset (`reference ≈ gain·slice + offset`),
    /// applied by `AlignedStack`. Off: gain 1, offset 0.
    public var estimateGainOffset: Bool
    /// Keep the full frame (the default: outputs of one instrument keep one size; what a slice does
    /// not cover repeats its nearest edge pixel, and `AlignmentResult.padding` records how much)
    /// instead of cropping to the area every slice covers.
    public var keepSize: Bool
    /// Slices whose match score (the enhanced correlation coefficient, −1…1, between the
    /// reference's luminance and the aligned slice's) ends below this stay unaligned with a warning.
    ///
    /// 0.2, from measurements: the dev stacks (circuit board, bark, light-sheet mitochondria)
    /// score 0.76–0.99 and the defocused synthetic test stacks 0.85–0.99, while a noise-only
    /// slice scores near 0 (the tests check it stays under this default).
    public var minimumScore: Double
    /// The instrument's focus breathing when it is known (a per-instrument calibration): the change of
    /// magnification across the stack, slice `k` of `N` showing the specimen at
    /// `1 + breathing·(k − ⌊N/2⌋)/(N − 1)` (as `focusd simulate --breathing` makes it), taken relative
    /// to the reference slice. 0 (the default) assumes none. Each slice starts from this scale about the
    /// frame centre, and with `translation` keeps it, fitting only the shift: on sparse, noisy
    /// fluorescence a fitted scale takes up the apparent motion of defocused light, a known one does not.
    public var breathing: Double
    /// Passes of fitting every slice's shift again against the slice predicted by the stack's own
    /// least-squares specimen model (``DeconvolvedRefinement``), after the direct fit; 0 (the
    /// default) skips them. Removes the bias that defocus differences give a direct fit on tilted,
    /// sparse specimens (fluorescence), at the cost of several least-squares solves per pass. Only
    /// the shift is refitted (and the breathing, with `fitBreathing`): the linear part (the known
    /// `breathing`, or the direct fit's scale and rotation) stays. Grey-level Gaussian-PSF model: meant for fluorescence.
    public var renderPasses: Int
    /// Also fit the breathing in the `renderPasses` (``DeconvolvedRefinement``), starting from
    /// `breathing`: one magnification slope for the whole stack, refitted every pass from every
    /// slice's scale against its prediction, where defocus no longer pulls it. For instruments whose
    /// breathing is not calibrated. Needs `renderPasses` > 0 and the `translation` model.
    public var fitBreathing: Bool

    public init(model: TransformModel = .similarity, reference: Int? = nil, estimateGainOffset: Bool = false,
                keepSize: Bool = true, minimumScore: Double = 0.2, breathing: Double = 0, renderPasses: Int = 0,
                fitBreathing: Bool = false) {
        self.model = model
        self.reference = reference
        self.estimateGainOffset = estimateGainOffset
        self.keepSize = keepSize
        self.minimumScore = minimumScore
        self.breathing = breathing
        self.renderPasses = renderPasses
        self.fitBreathing = fitBreathing
    }

    enum CodingKeys: String, CodingKey {
        case model, reference, estimateGainOffset, keepSize, minimumScore, breathing, renderPasses, fitBreathing
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(TransformModel.self, forKey: .model),
                  reference: try c.decodeIfPresent(Int.self, forKey: .reference),
                  estimateGainOffset: try c.decode(Bool.self, forKey: .estimateGainOffset),
                  keepSize: try c.decode(Bool.self, forKey: .keepSize),
                  minimumScore: try c.decode(Double.self, forKey: .minimumScore),
                  breathing: try c.decodeIfPresent(Double.self, forKey: .breathing) ?? 0,
                  renderPasses: try c.decodeIfPresent(Int.self, forKey: .renderPasses) ?? 0,
                  fitBreathing: try c.decodeIfPresent(Bool.self, forKey: .fitBreathing) ?? false)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(reference, forKey: .reference)
        try c.encode(estimateGainOffset, forKey: .estimateGainOffset)
        try c.encode(keepSize, forKey: .keepSize)
        try c.encode(minimumScore, forKey: .minimumScore)
        try c.encode(breathing, forKey: .breathing)
        // Only when used: records written before the key stay byte-identical.
        if renderPasses != 0 { try c.encode(renderPasses, forKey: .renderPasses) }
        if fitBreathing { try c.encode(fitBreathing, forKey: .fitBreathing) }
    }

    /// The magnification of slice `index` relative to slice `reference` under `breathing`.
    public func breathingScale(of index: Int, reference: Int, count: Int) -> Double {
        Self.breathingScale(breathing, of: index, reference: reference, count: count)
    }

    /// The breathing whose magnifications relative to `reference` best match `samples` (slice index,
    /// magnification, weight): the weighted least-squares slope of `magnification − 1` against
    /// `(index − reference)/(count − 1)`. Nil with fewer than two samples or no spread.
    public static func breathing(fromMagnifications samples: [(index: Int, magnification: Double, weight: Double)],
                                 reference: Int, count: Int) -> Double? {
        guard samples.count >= 2, count > 1 else { return nil }
        var sxy = 0.0, sxx = 0.0
        for s in samples {
            let t = Double(s.index - reference) / Double(count - 1)
            sxy += s.weight * t * (s.magnification - 1)
            sxx += s.weight * t * t
        }
        return sxx > 0 ? sxy / sxx : nil
    }

    /// The magnification of slice `index` relative to slice `reference` under `breathing`.
    public static func breathingScale(_ breathing: Double, of index: Int, reference: Int, count: Int) -> Double {
        guard count > 1, breathing != 0 else { return 1 }
        func magnification(_ k: Int) -> Double { 1 + breathing * Double(k - count / 2) / Double(count - 1) }
        return magnification(index) / magnification(reference)
    }
}
