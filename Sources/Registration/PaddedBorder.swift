/// What a full-frame alignment (`keepSize`) pads: a slice moved, rotated or magnified onto the
/// reference grid leaves part of the frame without data, filled from that slice's nearest edge pixel
/// (`AlignedStack`). Recorded in the alignment, and so in the provenance sidecar.
///
/// JSON (inside `T.json` and the sidecar's `focusd:alignment`):
/// `"padding": {"covered": [x, y, w, h], "border": [left, top, right, bottom]}`.
public struct PaddedBorder: Codable, Sendable, Equatable {
    /// The largest axis-aligned rectangle of reference pixels every aligned slice covers, `[x, y, w, h]`
    /// (what `keepSize: false` crops to).
    public var covered: [Int]
    /// Pixels outside `covered` on each side, `[left, top, right, bottom]`: at most this much of any
    /// slice is padded (all zero when no slice moved).
    public var border: [Int]

    public init(covered: [Int], border: [Int]) {
        self.covered = covered
        self.border = border
    }

    /// The padding of a full-frame alignment, from its transforms alone.
    public static func plan(for alignment: AlignmentResult) -> PaddedBorder {
        let w = alignment.width, h = alignment.height
        let matrices = alignment.slices.filter(\.aligned).compactMap { Affine(rows: $0.matrix) }
        let covered = CommonCrop.rectangle(width: w, height: h, sliceToReference: matrices) ?? [0, 0, 0, 0]
        return PaddedBorder(covered: covered,
                            border: [covered[0], covered[1], w - covered[0] - covered[2], h - covered[1] - covered[3]])
    }
}
