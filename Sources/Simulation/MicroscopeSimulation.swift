import Foundation
import Imaging

/// Settings of a simulated microscope focus stack (`focusd simulate`, `focusd bench stacks`,
/// training pairs). Every length is in pixels, every depth in slice units.
public struct MicroscopeSimulation: Sendable, Codable, Equatable {
    /// The contrast mode: the PSF shape and how the texture becomes light.
    public enum Modality: String, Sendable, Codable, CaseIterable {
        /// Widefield fluorescence: the texture emits light (dark background); Gaussian defocus PSF.
        case fluorescence
        /// Transmitted-light brightfield: the texture transmits light (bright background); a soft
        /// disc PSF, the geometric defocus of a circular aperture.
        case brightfield
    }

    public var modality: Modality
    /// Number of focal planes.
    public var slices: Int
    /// Expected photo-electrons at the brightest in-focus pixel (30 = very noisy … 3,000 = clean).
    public var photons: Double
    /// Seed of every random choice (surface, drift, noise).
    public var seed: UInt64
    /// Stored sample format of the slices (`uint16`, or `uint8` for an 8-bit colour camera).
    public var format: SampleFormat
    /// PSF growth per slice of defocus: the Gaussian σ (fluorescence) or disc radius
    /// (brightfield) increases by this many pixels per slice away from focus.
    public var defocusPerSlice: Double
    /// PSF size in focus (σ or disc radius), pixels.
    public var focusedWidth: Double
    /// Camera offset (ADU) added to every pixel.
    public var offset: Double
    /// ADU per photo-electron; 0 = chosen from the format (2 for 16-bit; for 8-bit the brightest
    /// expected value lands near 230).
    public var gain: Double
    /// Gaussian read noise, electrons r.m.s.
    public var readNoise: Double
    /// Fluorescence background (out-of-sample light) as a fraction of `photons`.
    public var background: Double
    /// Fraction of the z range the specimen surface spans.
    public var span: Double
    /// Steep steps in the specimen surface.
    public var surfaceSteps: Int
    /// Total magnification change from the first slice to the last (0.01 = 1 % breathing).
    public var breathing: Double
    /// Standard deviation of the per-slice stage drift step, pixels (a random walk, zero at slice N/2).
    public var drift: Double
    /// How defocus blur is applied (see `MicroscopeSimulator`): per receiving pixel (`gather`, the
    /// default every shipped figure uses) or per emitting depth layer (`scatter`, energy-conserving).
    public var layering: Layering = .gather

    /// How a slice's defocus blur is composed from the specimen's depths.
    public enum Layering: String, Sendable, Codable, CaseIterable {
        /// Each pixel takes the specimen blurred by the PSF of its own defocus.
        case gather
        /// Each depth layer of the specimen spreads its light through the PSF of its defocus; the sum is the slice.
        case scatter
    }

    public init(modality: Modality = .fluorescence, slices: Int = 16, photons: Double = 300, seed: UInt64 = 1,
                format: SampleFormat = .uint16) {
        self.modality = modality
        self.slices = slices
        self.photons = photons
        self.seed = seed
        self.format = format
        switch modality {
        case .fluorescence:
            defocusPerSlice = 1.0
            focusedWidth = 0.7
            background = 0.03
        case .brightfield:
            defocusPerSlice = 0.9
            focusedWidth = 0.5
            background = 0
        }
        offset = format == .uint8 ? 4 : 100
        gain = 0
        readNoise = 1.6
        span = 0.8
        surfaceSteps = 2
        breathing = 0
        drift = 0
    }

    /// The gain actually used (ADU per electron).
    public var effectiveGain: Double {
        if gain > 0 { return gain }
        if format == .uint8 { return (230 - offset) / max(photons * (1 + background), 1) }
        return 2
    }

    /// Checks ranges. - Throws: `SimulationError.invalidSettings` naming the value.
    public func validate() throws(SimulationError) {
        func check(_ ok: Bool, _ what: String) throws(SimulationError) {
            if !ok { throw SimulationError.invalidSettings(what) }
        }
        try check(slices >= 2 && slices <= 1000, "slices \(slices) must be 2…1000")
        try check(photons > 0 && photons <= 1e6, "photons \(photons) must be in (0, 10⁶]")
        try check(format != .float32, "the camera writes integers: format must be uint8 or uint16")
        try check(defocusPerSlice > 0 && defocusPerSlice <= 20, "defocus per slice \(defocusPerSlice) must be in (0, 20] px")
        try check(focusedWidth >= 0 && focusedWidth <= 10, "focused PSF width \(focusedWidth) must be 0…10 px")
        try check(readNoise >= 0 && background >= 0 && offset >= 0, "read noise, background and offset must be ≥ 0")
        try check(span >= 0 && span <= 1, "span \(span) must be 0…1")
        try check(surfaceSteps >= 0 && surfaceSteps <= 50, "surface steps \(surfaceSteps) must be 0…50")
        let brightest = offset + effectiveGain * photons * (1 + (modality == .fluorescence ? background : 0))
        try check(brightest <= Double(format.maximumValue ?? 65535),
                  "the brightest pixel (about \(Int(brightest)) ADU) would saturate \(format.rawValue); lower photons or gain")
        try check(abs(breathing) <= 0.1, "breathing \(breathing) must be within ±0.1")
        try check(drift >= 0 && drift <= 20, "drift \(drift) must be 0…20 px")
    }

    /// The PSF size at `defocus` slices from focus.
    func psfWidth(defocus: Double) -> Double {
        (focusedWidth * focusedWidth + defocusPerSlice * defocusPerSlice * defocus * defocus).squareRoot()
    }
}

/// A simulated stack with its ground truth.
public struct SimulatedStack: Sendable {
    public let settings: MicroscopeSimulation
    /// The slices in camera units (integers stored as `Float`), slice 0 first.
    public let slices: [Image]
    /// The noise-free in-focus image in the slices' units (not quantised), in the reference frame
    /// (no breathing or drift).
    public let groundTruth: Image
    /// The specimen surface: per pixel the (fractional) slice index of best focus.
    public let height: HeightMap
    /// Per slice: magnification and shift (pixels) applied for breathing and drift.
    public let transforms: [SliceMotion]

    /// The slices as a stack for fusion.
    public var stack: InMemoryStack {
        InMemoryStack(slices: slices, format: settings.format,
                      names: slices.indices.map { "simulated slice \($0)" })
    }
}

/// One slice's true motion (`focusd simulate` writes them as `transforms.json`): magnified by
/// `scale` about the image centre, then moved by (`dx`, `dy`) pixels, relative to slice N/2
/// (`MicroscopeSimulator.warped`).
public struct SliceMotion: Sendable, Codable, Equatable {
    public var scale: Double
    public var dx: Double
    public var dy: Double

    public init(scale: Double, dx: Double, dy: Double) {
        self.scale = scale
        self.dx = dx
        self.dy = dy
    }
}

/// Errors of the simulator.
public enum SimulationError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidSettings(String)
    case unusableTexture(String)

    public var description: String {
        switch self {
        case let .invalidSettings(message): "invalid simulation settings: \(message)"
        case let .unusableTexture(message): "unusable texture: \(message)"
        }
    }
}
