import Foundation
import Imaging
import SeededRandom
@testable import Fusion

/// Deterministic synthetic images for the tests: a textured scene and blurred copies.
enum Synthetic {
    /// Random texture in 0…peak, lightly smoothed so it has structure at several scales.
    /// `grain` > 0 smooths the noise with a Gaussian of that σ first (coarser structure).
    static func texture(width: Int, height: Int, channels: Int = 1, peak: Float = 255, seed: UInt64 = 1,
                        grain: Float = 0) -> Image {
        var random = SplitMix64(seed: seed)  // the same test image on every machine
        var planes: [Image] = []
        for _ in 0..<channels {
            var p = Plane(width: width, height: height)
            for i in 0..<p.count { p.values[i] = random.uniformFloat() }
            p = p.convolved([0.25, 0.5, 0.25])
            if grain > 0 {
                p = blurred(Image(width: width, height: height, channels: 1, pixels: p.values), sigma: grain).plane(0)
            }
            let lo = p.values.min()!, hi = p.values.max()!
            planes.append(Image(width: width, height: height, channels: 1,
                                pixels: p.values.map { ($0 - lo) / (hi - lo) * peak }))
        }
        return Image(planes: planes)
    }

    /// Gaussian blur (σ in pixels) of every channel.
    static func blurred(_ image: Image, sigma: Float) -> Image {
        let r = Int((3 * sigma).rounded(.up))
        var taps = (-r...r).map { exp(-Float($0 * $0) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        taps = taps.map { $0 / sum }
        return Image(planes: (0..<image.channels).map {
            Image(width: image.width, height: image.height, channels: 1, pixels: image.plane($0).convolved(taps).values)
        })
    }

    /// `sharp` where `mask(x, y)` is true, `blurred` elsewhere.
    static func composite(_ sharp: Image, _ blurred: Image, mask: (Int, Int) -> Bool) -> Image {
        var out = blurred
        for c in 0..<sharp.channels {
            for y in 0..<sharp.height {
                for x in 0..<sharp.width where mask(x, y) { out[x, y, c] = sharp[x, y, c] }
            }
        }
        return out
    }

    /// The classic pair: source A sharp on the left half, B sharp on the right half.
    static func halfBlurredPair(width: Int = 64, height: Int = 64, channels: Int = 1, peak: Float = 255, sigma: Float = 2,
                                grain: Float = 0) -> (original: Image, a: Image, b: Image) {
        let original = texture(width: width, height: height, channels: channels, peak: peak, grain: grain)
        let blur = blurred(original, sigma: sigma)
        let a = composite(original, blur) { x, _ in x < width / 2 }
        let b = composite(original, blur) { x, _ in x >= width / 2 }
        return (original, a, b)
    }

    /// N slices where slice i is sharp only in vertical band i (bands of equal width).
    static func bandStack(slices n: Int, bandWidth: Int = 16, height: Int = 40, channels: Int = 1,
                          peak: Float = 255, offset: Float = 0, format: SampleFormat = .uint8) -> InMemoryStack {
        let width = n * bandWidth
        var original = texture(width: width, height: height, channels: channels, peak: peak - offset, seed: 7)
        for i in 0..<original.pixels.count { original.pixels[i] += offset }
        let blur = blurred(original, sigma: 2.5)
        let slices = (0..<n).map { i in composite(original, blur) { x, _ in x / bandWidth == i } }
        return InMemoryStack(slices: slices, format: format)
    }

    static func average(_ a: Image, _ b: Image) -> Image {
        Image(width: a.width, height: a.height, channels: a.channels,
              pixels: zip(a.pixels, b.pixels).map { (x: Float, y: Float) in (x + y) / 2 })
    }
}

/// A generator that returns a fixed function of the pair, for projection and tiling tests.
struct ClosureGenerator: PairGenerator {
    var channels: Int
    var sizeMultiple: Int = 1
    let body: @Sendable (Image, Image) -> Image

    func generate(_ s1: Image, _ s2: Image) throws -> Image {
        precondition(s1.width % sizeMultiple == 0 && s1.height % sizeMultiple == 0, "generator got an unpadded size")
        precondition(s1.channels == channels)
        return body(s1, s2)
    }
}
