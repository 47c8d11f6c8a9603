/// How a full-frame alignment (`keepSize`) fills the border a slice does not cover.
///
/// A slice moved, rotated or magnified onto the reference grid leaves part of the frame without
/// data. That part is taken from the nearest slice (in stack order; at equal distance the one
/// nearer the reference) that was aligned and covers the whole frame — the reference slice at
/// worst, which always does. Measured pixels of a neighbouring focal plane, not the slice's edge
/// pixels smeared outward. Recorded in the alignment (and so in the provenance sidecar).
///
/// JSON (inside `T.json` and the sidecar's `focusd:alignment`):
/// `"padding": {"covered": [x, y, w, h], "border": [left, top, right, bottom], "filledFrom": [j or null, ...]}`.
public struct PaddedBorder: Codable, Sendable, Equatable {
    /// The largest axis-aligned rectangle of reference pixels every aligned slice covers, `[x, y, w, h]`
    /// (what `keepSize: false` crops to).
    public var covered: [Int]
    /// Pixels outside `covered` on each side, `[left, top, right, bottom]`: at most this much of any
    /// slice is padded (all zero when no slice moved).
    public var border: [Int]
    /// Per slice, in stack order: the slice its uncovered pixels were taken from, or `nil` when it
    /// covers the whole frame.
    public var filledFrom: [Int?]

    public init(covered: [Int], border: [Int], filledFrom: [Int?]) {
        self.covered = covered
        self.border = border
        self.filledFrom = filledFrom
    }

    /// The padding of a full-frame alignment, from its transforms alone.
    public static func plan(for alignment: AlignmentResult) -> PaddedBorder {
        let w = alignment.width, h = alignment.height
        let matrices = alignment.slices.map { Affine(rows: $0.matrix) ?? .identity }
        let covered = CommonCrop.rectangle(width: w, height: h,
                                           sliceToReference: alignment.slices.indices.filter { alignment.slices[$0].aligned }.map { matrices[$0] })
            ?? [0, 0, 0, 0]
        let border = [covered[0], covered[1], w - covered[0] - covered[2], h - covered[1] - covered[3]]
        let full = alignment.slices.indices.map { k in coversFrame(matrices[k], width: w, height: h) }
        let candidates = alignment.slices.indices.filter { alignment.slices[$0].aligned && full[$0] }
        let filledFrom: [Int?] = alignment.slices.indices.map { k in
            if full[k] { return nil }
            return candidates.min { a, b in
                let da = abs(a - k), db = abs(b - k)
                return da != db ? da < db : abs(a - alignment.reference) < abs(b - alignment.reference)
            }
        }
        return PaddedBorder(covered: covered, border: border, filledFrom: filledFrom)
    }

    /// Whether every reference pixel centre maps inside a slice (between its first and last pixel
    /// centres): the slice's footprint is convex, so the frame's four corners decide.
    static func coversFrame(_ sliceToReference: Affine, width: Int, height: Int) -> Bool {
        guard let m = sliceToReference.inverse else { return false }
        let tolerance = 1e-6
        let maxX = Double(width - 1), maxY = Double(height - 1)
        for (x, y) in [(0.0, 0.0), (maxX, 0), (0, maxY), (maxX, maxY)] {
            let p = m.apply(x, y)
            guard p.x >= -tolerance, p.x <= maxX + tolerance, p.y >= -tolerance, p.y <= maxY + tolerance else { return false }
        }
        return true
    }
}
