import Foundation

/// The transform of one slice onto the reference slice.
///
/// `matrix` is 2×3, `[[a, b, tx], [c, d, ty]]`, and maps the slice's pixel coordinates to the
/// reference slice's: `x_ref = a·x + b·y + tx`, `y_ref = c·x + d·y + ty`, with x right, y down and
/// the origin at the centre of the top-left pixel.
public struct SliceTransform: Codable, Sendable, Equatable {
    /// 0-based position in the stack.
    public var index: Int
    /// 2×3 affine matrix, slice pixel coordinates → reference pixel coordinates.
    public var matrix: [[Double]]
    /// Brightness correction `reference ≈ gain·slice + offset` in the stack's value scale
    /// (1 and 0 unless gain/offset estimation was asked for).
    public var gain: Double
    public var offset: Double
    /// Match score: the enhanced correlation coefficient (−1…1) of the aligned slice's luminance
    /// with the reference's, on the finest level estimated. 1 for the reference slice and for
    /// model `none` (nothing is estimated).
    public var score: Double
    /// `false` when the slice could not be aligned; its matrix is then the identity.
    public var aligned: Bool
    /// Why the slice was left unaligned, naming the slice; absent otherwise.
    public var warning: String?

    public init(index: Int, matrix: [[Double]], gain: Double = 1, offset: Double = 0, score: Double,
                aligned: Bool, warning: String? = nil) {
        self.index = index
        self.matrix = matrix
        self.gain = gain
        self.offset = offset
        self.score = score
        self.aligned = aligned
        self.warning = warning
    }

    /// The identity transform for slice `index`.
    public static func identity(index: Int, score: Double = 1) -> SliceTransform {
        SliceTransform(index: index, matrix: Affine.identity.rows, score: score, aligned: true)
    }

    /// Maps a point of the slice (pixel coordinates) into the reference slice.
    public func map(x: Double, y: Double) -> (x: Double, y: Double) {
        (matrix[0][0] * x + matrix[0][1] * y + matrix[0][2], matrix[1][0] * x + matrix[1][1] * y + matrix[1][2])
    }
}

/// Transforms of every slice of a stack onto one reference slice, and the output frame.
///
/// Encodes to the `T.json` form of `focusd align --transforms`:
/// `{"reference": r, "model": "similarity", "width": W, "height": H, "crop": [x, y, w, h],
///   "slices": [{"index": i, "matrix": [[a, b, tx], [c, d, ty]], "gain": g, "offset": o,
///   "score": s, "aligned": true}, ...], "padding": {...}}` (a slice left unaligned also carries
///   `"warning"`; `padding`, see `PaddedBorder`, only when the full frame is kept).
public struct AlignmentResult: Codable, Sendable, Equatable {
    /// 0-based index of the reference slice.
    public var reference: Int
    public var model: TransformModel
    /// Size of the input slices in pixels.
    public var width: Int
    public var height: Int
    /// The output frame in reference pixel coordinates, `[x, y, w, h]`: the full frame with
    /// `keepSize` (the default), else the largest axis-aligned rectangle every aligned slice covers.
    public var crop: [Int]
    /// One entry per slice, in stack order.
    public var slices: [SliceTransform]
    /// With `keepSize`: the area every slice covers, the padded border and where its pixels come
    /// from (`PaddedBorder`); absent when the output is cropped to the covered area.
    public var padding: PaddedBorder?
    /// With `AlignmentOptions.renderPasses`: how the transforms were refined; absent otherwise.
    public var rendering: RenderingRecord?

    /// What the refinement against the stack's own specimen model did (`DeconvolvedRefinement`).
    public struct RenderingRecord: Codable, Sendable, Equatable {
        /// Passes run.
        public var passes: Int
        /// The PSF growth chosen: Gaussian σ, in full-resolution pixels, per slice of defocus.
        public var defocusPerSlice: Double
        /// The image formation chosen: `scatter` (each depth layer through its own defocus, summed)
        /// or `gather` (each pixel blurred by its own defocus). Absent in records written before it.
        public var layering: String?
        /// The breathing fitted in the passes (`AlignmentOptions.fitBreathing`); absent when it was given.
        public var breathing: Double?
    }

    public init(reference: Int, model: TransformModel, width: Int, height: Int, crop: [Int], slices: [SliceTransform],
                padding: PaddedBorder? = nil) {
        self.reference = reference
        self.model = model
        self.width = width
        self.height = height
        self.crop = crop
        self.slices = slices
        self.padding = padding
    }

    /// Every slice's warning, in stack order (slices left unaligned).
    public var warnings: [String] { slices.compactMap(\.warning) }

    /// The focus breathing these transforms show, in `AlignmentOptions.breathing`'s units (magnification
    /// change across the stack): the least-squares slope, weighted by match score, of each aligned slice's
    /// magnification relative to the reference against `(k − reference)/(N − 1)`. `nil` with fewer than
    /// two aligned slices besides the reference. Fit it once per objective on a stack with dense texture
    /// (a similarity alignment of beads or a brightfield specimen), then give it to profiles as
    /// `align_breathing`.
    public var fittedBreathing: Double? {
        guard slices.count > 2 else { return nil }
        let samples = slices.filter { $0.aligned && $0.index != reference }.compactMap { slice -> (index: Int, magnification: Double, weight: Double)? in
            guard let m = Affine(rows: slice.matrix), m.scale > 0 else { return nil }
            // The matrix maps slice pixels to reference pixels.
            return (slice.index, 1 / m.scale, max(slice.score, 0))
        }
        return AlignmentOptions.breathing(fromMagnifications: samples, reference: reference, count: slices.count)
    }

    /// The identity alignment of a `count`-slice stack of `width × height` slices (model `none`).
    public static func identity(count: Int, width: Int, height: Int, reference: Int? = nil) -> AlignmentResult {
        AlignmentResult(reference: reference ?? count / 2, model: .none, width: width, height: height,
                        crop: [0, 0, width, height], slices: (0..<count).map { SliceTransform.identity(index: $0) })
    }

    /// The result as `T.json` bytes (pretty-printed, stable key order).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Decodes and checks a `T.json` document.
    /// - Throws: `RegistrationError.invalidTransforms` when the JSON is malformed or inconsistent
    ///   (a matrix not 2×3 or not finite, a crop outside the frame, slice indices out of order).
    public static func decode(_ data: Data, source: String = "transforms") throws -> AlignmentResult {
        let result: AlignmentResult
        do {
            result = try JSONDecoder().decode(AlignmentResult.self, from: data)
        } catch {
            throw RegistrationError.invalidTransforms(source: source, reason: "not a transforms document (\(error))")
        }
        try result.validate(source: source)
        return result
    }

    /// Checks internal consistency.
    /// - Throws: `RegistrationError.invalidTransforms` naming the first problem found.
    public func validate(source: String = "transforms") throws {
        func fail(_ reason: String) -> RegistrationError { .invalidTransforms(source: source, reason: reason) }
        guard width > 0, height > 0 else { throw fail("width and height must be positive") }
        guard crop.count == 4, crop[0] >= 0, crop[1] >= 0, crop[2] > 0, crop[3] > 0,
              crop[0] + crop[2] <= width, crop[1] + crop[3] <= height else {
            throw fail("crop \(crop) is not a non-empty [x, y, w, h] inside the \(width)×\(height) frame")
        }
        guard slices.indices.contains(reference) else {
            throw fail("reference \(reference) is not one of the \(slices.count) slices")
        }
        for (position, slice) in slices.enumerated() {
            guard slice.index == position else { throw fail("slice entry \(position) has index \(slice.index); entries must be in stack order") }
            guard let m = Affine(rows: slice.matrix), m.inverse != nil else {
                throw fail("slice \(position): matrix must be 2×3, finite and invertible")
            }
            guard slice.gain.isFinite, slice.offset.isFinite else { throw fail("slice \(position): gain and offset must be finite") }
        }
    }
}

/// Errors from alignment.
public enum RegistrationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The requested reference slice does not exist.
    case referenceOutOfRange(reference: Int, count: Int)
    /// The stack has no slices.
    case emptyStack
    /// A transforms document is malformed or does not fit the stack.
    case invalidTransforms(source: String, reason: String)

    public var description: String {
        switch self {
        case let .referenceOutOfRange(reference, count):
            "reference slice \(reference) does not exist: the stack has \(count) slices (valid: 0…\(count - 1)); pass another --reference or omit it for the middle slice"
        case .emptyStack:
            "the stack has no slices; nothing to align"
        case let .invalidTransforms(source, reason):
            "\(source): \(reason); regenerate it with 'focusd align'"
        }
    }
}
