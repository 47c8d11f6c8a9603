import Foundation

/// What the U-Net predicts; the sampler derives x̂₀ from it.
///
/// `eps` is the published objective (the noise ε); `x0` predicts the clean image; `v` predicts
/// v = √ᾱ·ε − √(1−ᾱ)·x₀.
public enum PredictionTarget: String, Codable, Sendable, CaseIterable {
    case eps
    case x0
    case v
}

/// The FusionDiff U-Net's shape: everything needed to build the network and name its parameters.
///
/// JSON keys (ARCHITECTURE.md, "Model configuration keys"): `image_channels`, `width`, `mults`,
/// `res_blocks`, `groups`, `time_channels`, `time_embed_dim`, `dropout`, `prediction` (default
/// `"eps"`), `focus_features` (default `false`). Decoding also accepts `in_channels` and
/// `out_channels` (written by the reference PyTorch implementation) and checks them against
/// ``inputChannels`` and ``outputChannels``.
public struct FusionDiffConfiguration: Codable, Sendable, Equatable, Hashable {
    /// Channels of one image: 3 for RGB (as published), 1 for luminance.
    public var imageChannels: Int
    /// Base width: channels of the first level; level k has `width · mults[k]` channels.
    public var width: Int
    /// Channel multipliers per level; the U-Net has `mults.count` levels and downsamples
    /// `mults.count − 1` times.
    public var mults: [Int]
    /// ResBlocks per encoder and decoder level (the middle always has two).
    public var resBlocks: Int
    /// GroupNorm groups; a GroupNorm over C channels uses `min(groups, C)` groups.
    public var groups: Int
    /// Dimensions of the sinusoidal timestep embedding (even).
    public var timeChannels: Int
    /// Width of the time MLP and of the embedding every ResBlock receives.
    public var timeEmbedDim: Int
    /// Dropout probability inside each ResBlock (training only).
    public var dropout: Float
    /// The network's prediction target.
    public var prediction: PredictionTarget
    /// Whether each source's local focus energy is appended as two extra input channels.
    public var focusFeatures: Bool

    public init(
        imageChannels: Int, width: Int, mults: [Int], resBlocks: Int, groups: Int,
        timeChannels: Int, timeEmbedDim: Int, dropout: Float,
        prediction: PredictionTarget = .eps, focusFeatures: Bool = false
    ) {
        self.imageChannels = imageChannels
        self.width = width
        self.mults = mults
        self.resBlocks = resBlocks
        self.groups = groups
        self.timeChannels = timeChannels
        self.timeEmbedDim = timeEmbedDim
        self.dropout = dropout
        self.prediction = prediction
        self.focusFeatures = focusFeatures
    }

    /// Input channels: `[S1, S2, x_t]` and, with focus features, `[E1, E2]`.
    public var inputChannels: Int { 3 * imageChannels + (focusFeatures ? 2 : 0) }
    /// Output channels: one prediction per image channel.
    public var outputChannels: Int { imageChannels }
    /// Number of levels (`mults.count`).
    public var levels: Int { mults.count }
    /// Input height and width must be multiples of this (`2^(levels − 1)`).
    public var sizeMultiple: Int { 1 << max(0, mults.count - 1) }

    /// The published network: RGB, width 64, mults 1,2,4,8, two ResBlocks per level, 32 groups,
    /// 64-dimensional sinusoid, 256-wide time MLP, dropout 0.1, ε-prediction. 26,915,395 parameters.
    public static let paper = FusionDiffConfiguration(
        imageChannels: 3, width: 64, mults: [1, 2, 4, 8], resBlocks: 2, groups: 32,
        timeChannels: 64, timeEmbedDim: 256, dropout: 0.1, prediction: .eps)

    /// The CPU network focusd trains: luminance, mults 1,2,4,8, two ResBlocks per level, 8 groups,
    /// a `width`-dimensional sinusoid and a `4·width` time MLP (ARCHITECTURE.md's rule for smaller
    /// widths), dropout 0.1, x₀-prediction (ARCHITECTURE.md, "Respacing": ε-models are unusable at few steps).
    /// Width 16 has 1,688,081 parameters, width 32 6,735,905.
    public static func small(width: Int = 32) -> FusionDiffConfiguration {
        FusionDiffConfiguration(
            imageChannels: 1, width: width, mults: [1, 2, 4, 8], resBlocks: 2, groups: 8,
            timeChannels: width, timeEmbedDim: 4 * width, dropout: 0.1, prediction: .x0)
    }

    /// Problems that make the configuration unusable, empty when it is valid.
    public var problems: [String] {
        var found: [String] = []
        if imageChannels < 1 { found.append("image_channels must be at least 1 (got \(imageChannels))") }
        if width < 1 { found.append("width must be at least 1 (got \(width))") }
        if mults.isEmpty || mults.contains(where: { $0 < 1 }) {
            found.append("mults must be a non-empty list of positive integers (got \(mults))")
        }
        if resBlocks < 1 { found.append("res_blocks must be at least 1 (got \(resBlocks))") }
        if groups < 1 { found.append("groups must be at least 1 (got \(groups))") }
        if timeChannels < 2 || timeChannels % 2 != 0 {
            found.append("time_channels must be even and at least 2 (got \(timeChannels))")
        }
        if timeEmbedDim < 1 { found.append("time_embed_dim must be at least 1 (got \(timeEmbedDim))") }
        if !(dropout >= 0 && dropout < 1) { found.append("dropout must be in [0, 1) (got \(dropout))") }
        if problems(groupsFor: width) { found.append("groups \(groups) do not divide the channel counts") }
        return found
    }

    private func problems(groupsFor width: Int) -> Bool {
        guard width > 0, !mults.isEmpty, !mults.contains(where: { $0 < 1 }) else { return false }
        let channels = [width] + mults.map { width * $0 }
        return channels.contains { $0 % Swift.min(groups, $0) != 0 }
    }

    enum CodingKeys: String, CodingKey {
        case imageChannels = "image_channels"
        case width, mults
        case resBlocks = "res_blocks"
        case groups
        case timeChannels = "time_channels"
        case timeEmbedDim = "time_embed_dim"
        case dropout, prediction
        case focusFeatures = "focus_features"
        case inChannels = "in_channels"
        case outChannels = "out_channels"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageChannels = try c.decode(Int.self, forKey: .imageChannels)
        width = try c.decode(Int.self, forKey: .width)
        mults = try c.decode([Int].self, forKey: .mults)
        resBlocks = try c.decode(Int.self, forKey: .resBlocks)
        groups = try c.decode(Int.self, forKey: .groups)
        timeChannels = try c.decode(Int.self, forKey: .timeChannels)
        timeEmbedDim = try c.decode(Int.self, forKey: .timeEmbedDim)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        prediction = try c.decodeIfPresent(PredictionTarget.self, forKey: .prediction) ?? .eps
        focusFeatures = try c.decodeIfPresent(Bool.self, forKey: .focusFeatures) ?? false
        if let given = try c.decodeIfPresent(Int.self, forKey: .inChannels), given != inputChannels {
            throw DecodingError.dataCorruptedError(
                forKey: .inChannels, in: c,
                debugDescription: "in_channels is \(given) but image_channels \(imageChannels) and focus_features \(focusFeatures) give \(inputChannels)")
        }
        if let given = try c.decodeIfPresent(Int.self, forKey: .outChannels), given != outputChannels {
            throw DecodingError.dataCorruptedError(
                forKey: .outChannels, in: c,
                debugDescription: "out_channels is \(given) but image_channels \(imageChannels) gives \(outputChannels)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imageChannels, forKey: .imageChannels)
        try c.encode(width, forKey: .width)
        try c.encode(mults, forKey: .mults)
        try c.encode(resBlocks, forKey: .resBlocks)
        try c.encode(groups, forKey: .groups)
        try c.encode(timeChannels, forKey: .timeChannels)
        try c.encode(timeEmbedDim, forKey: .timeEmbedDim)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(prediction, forKey: .prediction)
        try c.encode(focusFeatures, forKey: .focusFeatures)
        try c.encode(inputChannels, forKey: .inChannels)
        try c.encode(outputChannels, forKey: .outChannels)
    }

    /// Parses a configuration from JSON text (a model file's `config` metadata or a config file).
    public static func fromJSON(_ text: String) throws -> FusionDiffConfiguration {
        try JSONDecoder().decode(FusionDiffConfiguration.self, from: Data(text.utf8))
    }

    /// The configuration as compact JSON with sorted keys.
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain integers, strings and floats cannot fail.
        let data = (try? encoder.encode(self)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
