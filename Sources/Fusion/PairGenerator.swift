import Imaging

/// A generator of fused pairs: the FusionDiff sampler, or the classical control
/// (`FocusMeasureGenerator`). `PairwiseEngine` turns any generator into a stack fusion engine.
public protocol PairGenerator {
    /// Channels the generator works on: 1 = luminance, 3 = RGB.
    var channels: Int { get }
    /// Required divisor of width and height (8 for the U-Net, 1 for a focus measure).
    var sizeMultiple: Int { get }
    /// Fuses one pair.
    ///
    /// `s1`, `s2` are scaled to [−1, 1], have `channels` channels and the same size (a multiple of
    /// `sizeMultiple`). Returns the generated fused image, same size and channels, in [−1, 1].
    func generate(_ s1: Image, _ s2: Image) throws -> Image
}

/// The order in which `PairwiseEngine` combines the slices of a stack.
public enum PairOrder: String, Codable, Sendable, CaseIterable {
    /// (((S1 ⊕ S2) ⊕ S3) ⊕ …): one running result.
    case sequential
    /// A balanced binary tree, processed like a binary counter (about log₂ N partial results alive).
    case tree
}

/// Tiling of generator calls so any image size runs in bounded memory.
public struct TileOptions: Codable, Sendable, Equatable {
    /// Tile edge in pixels; 0 = untiled (the whole slice in one generator call).
    public var size: Int
    /// Overlap between neighbouring tiles in pixels, blended with a raised cosine.
    public var overlap: Int

    public init(size: Int = 0, overlap: Int = 32) {
        self.size = size
        self.overlap = overlap
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TileOptions()
        size = try c.decodeIfPresent(Int.self, forKey: .size) ?? d.size
        overlap = try c.decodeIfPresent(Int.self, forKey: .overlap) ?? d.overlap
    }
}

/// How a generated pair image becomes the output (ARCHITECTURE.md, "Faithfulness").
public enum ProjectionMode: String, Codable, Sendable, CaseIterable {
    /// Per-pixel weights thresholded at ½, small islands removed, blended only in a narrow
    /// edge-aware band at the boundary; output = w·S1 + (1−w)·S2.
    case decision
    /// The continuous fitted weights, edge-aware smoothed; output = w·S1 + (1−w)·S2.
    case soft
    /// The raw generated image (no projection).
    case none
}

/// Settings of the source-faithful projection.
///
/// Defaults measured with the control (`FocusMeasureGenerator` → decision projection) on Lytro
/// 01–10 (mean Q_AB/F / Q_CB): window 7, islands 0.2 %, band 2 → 0.7505 / 0.828 with the earlier
/// intensity fit, 0.7507 / 0.8284 with the detail fit (`Projection.detail`). Window 5–9,
/// islands 0–1 % and band 0–4 all stayed within 0.001 Q_AB/F and 0.008 Q_CB of it (intensity fit); the
/// island fraction is kept small so that small in-focus structures of microscopy stacks survive.
public struct ProjectionOptions: Codable, Sendable, Equatable {
    public var mode: ProjectionMode
    /// Edge of the square window (pixels, odd) over which w is fitted so that
    /// Σ (G − (w·S1 + (1−w)·S2))² is least.
    public var window: Int
    /// Regions of the decision map smaller than this fraction of the image area are flipped to
    /// their surroundings (the consistency filter).
    public var islandFraction: Double
    /// Radius in pixels of the edge-aware band in which the decision map is blended (guided
    /// filter radius; also the smoothing radius of `soft`). 0 = hard decision.
    public var bandRadius: Int
    /// Guided-filter regularisation, in squared units of the [−1, 1] source scale.
    public var bandEpsilon: Double

    public init(mode: ProjectionMode = .decision, window: Int = 7, islandFraction: Double = 0.002,
                bandRadius: Int = 2, bandEpsilon: Double = 1e-3) {
        self.mode = mode
        self.window = window
        self.islandFraction = islandFraction
        self.bandRadius = bandRadius
        self.bandEpsilon = bandEpsilon
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ProjectionOptions()
        mode = try c.decodeIfPresent(ProjectionMode.self, forKey: .mode) ?? d.mode
        window = try c.decodeIfPresent(Int.self, forKey: .window) ?? d.window
        islandFraction = try c.decodeIfPresent(Double.self, forKey: .islandFraction) ?? d.islandFraction
        bandRadius = try c.decodeIfPresent(Int.self, forKey: .bandRadius) ?? d.bandRadius
        bandEpsilon = try c.decodeIfPresent(Double.self, forKey: .bandEpsilon) ?? d.bandEpsilon
    }

    /// Checks value ranges. - Throws: `FusionError.invalidOptions` naming the bad value.
    public func validate() throws {
        guard window >= 1 else { throw FusionError.invalidOptions("projection window \(window) must be ≥ 1") }
        guard islandFraction >= 0, islandFraction < 0.5 else {
            throw FusionError.invalidOptions("island fraction \(islandFraction) must be in [0, 0.5)")
        }
        guard bandRadius >= 0 else { throw FusionError.invalidOptions("band radius \(bandRadius) must be ≥ 0") }
        guard bandEpsilon > 0 else { throw FusionError.invalidOptions("band epsilon \(bandEpsilon) must be > 0") }
    }
}
