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

    public init(model: TransformModel = .similarity, reference: Int? = nil, estimateGainOffset: Bool = false,
                keepSize: Bool = true, minimumScore: Double = 0.2, breathing: Double = 0) {
        self.model = model
        self.reference = reference
        self.estimateGainOffset = estimateGainOffset
        self.keepSize = keepSize
        self.minimumScore = minimumScore
        self.breathing = breathing
    }

    /// The magnification of slice `index` relative to slice `reference` under `breathing`.
    public func breathingScale(of index: Int, reference: Int, count: Int) -> Double {
        guard count > 1, breathing != 0 else { return 1 }
        func magnification(_ k: Int) -> Double { 1 + breathing * Double(k - count / 2) / Double(count - 1) }
        return magnification(index) / magnification(reference)
    }
}
