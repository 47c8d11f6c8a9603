import Imaging

/// The control (ARCHITECTURE.md, "Measured before building"): per pixel, the source whose Laplacian
/// energy summed over a `window × window` neighbourhood is larger. No model; used beside every
/// FusionDiff quality figure and fed through the same projection.
public struct FocusMeasureGenerator: PairGenerator, Sendable {
    public let channels: Int
    /// Window edge in pixels (odd) of the Laplacian energy sum.
    public let window: Int
    public var sizeMultiple: Int { 1 }

    public init(channels: Int = 1, window: Int = 7) {
        precondition(channels >= 1, "channels must be ≥ 1")
        precondition(window >= 1, "window must be ≥ 1")
        self.channels = channels
        self.window = window
    }

    public func generate(_ s1: Image, _ s2: Image) throws -> Image {
        precondition(s1.width == s2.width && s1.height == s2.height && s1.channels == s2.channels,
                     "pair sources must match in size and channels")
        let e1 = Self.focusEnergy(s1, window: window)
        let e2 = Self.focusEnergy(s2, window: window)
        var out = s2.pixels
        let n = s1.planeSize
        for i in 0..<n where e1.values[i] >= e2.values[i] {
            for c in 0..<s1.channels { out[c * n + i] = s1.pixels[c * n + i] }
        }
        return Image(width: s1.width, height: s1.height, channels: s1.channels, pixels: out)
    }

    /// Σ over a window of the squared 4-neighbour Laplacian, summed over channels.
    static func focusEnergy(_ image: Image, window: Int) -> Plane {
        var energy = Plane(width: image.width, height: image.height)
        for c in 0..<image.channels {
            let lap = image.plane(c).laplacian()
            for i in 0..<energy.count { energy.values[i] += lap.values[i] * lap.values[i] }
        }
        return energy.boxSum(radius: window / 2)
    }
}
