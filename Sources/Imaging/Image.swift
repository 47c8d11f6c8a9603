/// The sample type a file stores. Pixel values inside focusd are always `Float`, kept in the
/// file's own scale (an 8-bit image holds 0…255, a 16-bit image 0…65535, a float image whatever
/// it holds), so a 16-bit slice survives a read/write round trip bit for bit.
public enum SampleFormat: String, Codable, Sendable, CaseIterable {
    case uint8
    case uint16
    case float32

    /// Bits per sample in a file.
    public var bitsPerSample: Int {
        switch self {
        case .uint8: 8
        case .uint16: 16
        case .float32: 32
        }
    }

    /// The largest representable value for integer formats; `nil` for float.
    public var maximumValue: Float? {
        switch self {
        case .uint8: 255
        case .uint16: 65535
        case .float32: nil
        }
    }
}

/// A planar `Float32` image.
///
/// Layout: `pixels[c * width * height + y * width + x]`, channel-major ("planar"), rows top to
/// bottom. Grey images have one channel, colour images three (R, G, B).
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [Float]

    /// Number of pixels in one channel plane.
    public var planeSize: Int { width * height }

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0, "image dimensions must be positive")
        precondition(pixels.count == width * height * channels,
                     "pixel count \(pixels.count) != \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public init(width: Int, height: Int, channels: Int, repeating value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: value, count: width * height * channels))
    }

    @inlinable
    public subscript(x: Int, y: Int, c: Int) -> Float {
        get { pixels[c * width * height + y * width + x] }
        set { pixels[c * width * height + y * width + x] = newValue }
    }

    /// One channel as a one-channel image.
    public func channel(_ c: Int) -> Image {
        precondition(c >= 0 && c < channels)
        let n = planeSize
        return Image(width: width, height: height, channels: 1, pixels: Array(pixels[(c * n)..<((c + 1) * n)]))
    }

    /// Stacks one-channel images of equal size into one multi-channel image.
    public init(planes: [Image]) {
        precondition(!planes.isEmpty)
        let w = planes[0].width, h = planes[0].height
        var pixels = [Float]()
        pixels.reserveCapacity(w * h * planes.count)
        for p in planes {
            precondition(p.width == w && p.height == h && p.channels == 1, "planes must be 1-channel and equal in size")
            pixels.append(contentsOf: p.pixels)
        }
        self.init(width: w, height: h, channels: planes.count, pixels: pixels)
    }

    /// The rectangle `x0..<x0+w`, `y0..<y0+h`, every channel.
    public func cropped(x0: Int, y0: Int, width w: Int, height h: Int) -> Image {
        precondition(x0 >= 0 && y0 >= 0 && x0 + w <= width && y0 + h <= height, "crop outside the image")
        if x0 == 0 && y0 == 0 && w == width && h == height { return self }
        var out = [Float](repeating: 0, count: w * h * channels)
        for c in 0..<channels {
            for y in 0..<h {
                let src = c * planeSize + (y0 + y) * width + x0
                let dst = c * w * h + y * w
                for x in 0..<w { out[dst + x] = pixels[src + x] }
            }
        }
        return Image(width: w, height: h, channels: channels, pixels: out)
    }

    /// Luminance as a one-channel image in the same value scale: BT.601 Y (0.299 R + 0.587 G +
    /// 0.114 B) for three channels, the channel mean otherwise, the image itself for one channel.
    public func luminanceImage() -> Image {
        if channels == 1 { return self }
        let n = planeSize
        var out = [Float](repeating: 0, count: n)
        if channels == 3 {
            for i in 0..<n { out[i] = 0.299 * pixels[i] + 0.587 * pixels[n + i] + 0.114 * pixels[2 * n + i] }
        } else {
            let inv = 1 / Float(channels)
            for c in 0..<channels { for i in 0..<n { out[i] += pixels[c * n + i] * inv } }
        }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }
}
