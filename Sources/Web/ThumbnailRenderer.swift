import Imaging

/// How an image is turned into thumbnail colours.
enum ThumbnailStyle: Sendable, Equatable {
    /// A fused image: 8-bit as stored; 16-bit and float windowed by their own 0.5th and 99.5th
    /// percentiles (over all channels, so colours keep their balance).
    case image
    /// A depth map (slice indices) in the viridis colour map from `low` (dark violet) to `high`
    /// (yellow); nil bounds: the map's own minimum and maximum.
    case depth(low: Float?, high: Float?)

    /// A short stable text for cache keys.
    var key: String {
        switch self {
        case .image: return "image"
        case .depth(let low, let high): return "depth:\(low.map { "\($0)" } ?? "min"):\(high.map { "\($0)" } ?? "max")"
        }
    }
}

/// An 8-bit RGB thumbnail: rows top to bottom, `width × height × 3` interleaved samples.
struct Thumbnail: Sendable, Equatable {
    var width: Int
    var height: Int
    var rgb: [UInt8]
    /// The values mapped to the darkest and brightest colour (for depth maps: the colour bar's ends).
    var low: Float
    var high: Float
}

/// Pure thumbnail making: area-average downsampling, windowing, and the viridis colour map.
enum ThumbnailRenderer {
    /// Percentiles that window 16-bit and float images (their own, per image).
    static let lowPercentile: Float = 0.005, highPercentile: Float = 0.995

    /// Viridis (matplotlib) at 9 evenly spaced stops; linear in between. The page's colour bar
    /// (a CSS gradient) uses the same stops.
    static let viridis: [(UInt8, UInt8, UInt8)] = [
        (0x44, 0x01, 0x54), (0x47, 0x2c, 0x7a), (0x3b, 0x51, 0x8b), (0x2c, 0x71, 0x8e), (0x21, 0x90, 0x8d),
        (0x27, 0xad, 0x81), (0x5c, 0xc8, 0x63), (0xaa, 0xdc, 0x32), (0xfd, 0xe7, 0x25),
    ]

    /// A thumbnail of `image` no larger than `maxSide` on its longer side (never enlarged).
    static func render(_ image: Image, format: SampleFormat, style: ThumbnailStyle, maxSide: Int) -> Thumbnail {
        let small = downsample(image, maxSide: maxSide)
        switch style {
        case .image:
            let (low, high) = format == .uint8 ? (Float(0), Float(255)) : window(small.pixels)
            return Thumbnail(width: small.width, height: small.height, rgb: grey(small, low: low, high: high), low: low, high: high)
        case .depth(let lowBound, let highBound):
            let plane = Array(small.pixels.prefix(small.planeSize))
            let finite = plane.filter { $0.isFinite }
            let low = lowBound ?? finite.min() ?? 0, high = highBound ?? finite.max() ?? 1
            var rgb = [UInt8](repeating: 0, count: small.planeSize * 3)
            for (i, value) in plane.enumerated() {
                let (r, g, b) = colour(value, low: low, high: high)
                rgb[3 * i] = r; rgb[3 * i + 1] = g; rgb[3 * i + 2] = b
            }
            return Thumbnail(width: small.width, height: small.height, rgb: rgb, low: low, high: high)
        }
    }

    /// Area-average downsampling by whole source pixels: each thumbnail pixel is the mean of the
    /// source pixels whose centres fall in it. Layout kept planar.
    static func downsample(_ image: Image, maxSide: Int) -> Image {
        let scale = max(1, Double(max(image.width, image.height)) / Double(maxSide))
        let width = max(1, Int((Double(image.width) / scale).rounded()))
        let height = max(1, Int((Double(image.height) / scale).rounded()))
        if width == image.width && height == image.height { return image }
        var out = [Float](repeating: 0, count: width * height * image.channels)
        let xStart = (0...width).map { $0 * image.width / width }, yStart = (0...height).map { $0 * image.height / height }
        for c in 0..<image.channels {
            let plane = c * image.planeSize
            for oy in 0..<height {
                let y0 = yStart[oy], y1 = max(yStart[oy + 1], y0 + 1)
                for ox in 0..<width {
                    let x0 = xStart[ox], x1 = max(xStart[ox + 1], x0 + 1)
                    var sum: Float = 0, n: Float = 0
                    for y in y0..<y1 {
                        let row = plane + y * image.width
                        for x in x0..<x1 where image.pixels[row + x].isFinite {
                            sum += image.pixels[row + x]
                            n += 1
                        }
                    }
                    out[c * width * height + oy * width + ox] = n > 0 ? sum / n : .nan
                }
            }
        }
        return Image(width: width, height: height, channels: image.channels, pixels: out)
    }

    /// The 0.5th and 99.5th percentiles of the finite values (nearest rank); a flat image gets a
    /// window one unit wide so it shows as black rather than dividing by zero.
    static func window(_ values: [Float]) -> (Float, Float) {
        let sorted = values.filter { $0.isFinite }.sorted()
        guard !sorted.isEmpty else { return (0, 1) }
        let low = sorted[Int(lowPercentile * Float(sorted.count - 1))]
        let high = sorted[Int((highPercentile * Float(sorted.count - 1)).rounded(.up))]
        return high > low ? (low, high) : (low, low + 1)
    }

    /// Planar grey or RGB (first three channels) to interleaved RGB, `low…high` onto 0…255.
    private static func grey(_ image: Image, low: Float, high: Float) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: image.planeSize * 3)
        let scale = 255 / (high - low)
        for i in 0..<image.planeSize {
            for k in 0..<3 {
                let c = image.channels >= 3 ? k : 0
                let v = image.pixels[c * image.planeSize + i]
                rgb[3 * i + k] = v.isFinite ? UInt8(max(0, min(255, ((v - low) * scale).rounded()))) : 0
            }
        }
        return rgb
    }

    /// The viridis colour of `value` on `low…high`; NaN is black.
    static func colour(_ value: Float, low: Float, high: Float) -> (UInt8, UInt8, UInt8) {
        guard value.isFinite else { return (0, 0, 0) }
        let t = high > low ? max(0, min(1, (value - low) / (high - low))) : 0
        let position = t * Float(viridis.count - 1)
        let i = min(Int(position), viridis.count - 2)
        let f = position - Float(i)
        let a = viridis[i], b = viridis[i + 1]
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) + (Float(y) - Float(x)) * f).rounded()) }
        return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}
