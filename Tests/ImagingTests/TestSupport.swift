import Foundation
import Testing
@testable import Imaging

/// `<package root>/../shared/data`, derived from this file's path.
let sharedData: String = {
    let file = URL(fileURLWithPath: #filePath)
    let root = file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.deletingLastPathComponent().appendingPathComponent("shared/data").path
}()

/// A fresh temporary folder for one test, removed by `cleanUp()`.
struct TemporaryFolder {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "focusd-imaging-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func cleanUp() { try? FileManager.default.removeItem(atPath: path) }

    func contents() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] }
}

/// A deterministic test image whose values cover the range of `format`.
func patternImage(width: Int, height: Int, channels: Int, format: SampleFormat, seed: UInt64 = 1) -> Image {
    var state = seed &* 0x9E37_79B9_7F4A_7C15
    var pixels = [Float](repeating: 0, count: width * height * channels)
    for i in pixels.indices {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let bits = state >> 33
        switch format {
        case .uint8: pixels[i] = Float(bits % 256)
        case .uint16: pixels[i] = Float(bits % 65536)
        case .float32: pixels[i] = Float(Int64(bits % 2_000_001) - 1_000_000) / 997.0
        }
    }
    // Pin the extremes so clamping and byte order are exercised.
    if let maximum = format.maximumValue { pixels[0] = 0; pixels[pixels.count - 1] = maximum }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// nil when `a` and `b` are identical; otherwise a short description of the first difference
/// (so a failing expectation does not print a million pixels).
func firstDifference(_ a: Image, _ b: Image) -> String? {
    guard a.width == b.width, a.height == b.height, a.channels == b.channels else {
        return "geometry \(a.width)×\(a.height)×\(a.channels) vs \(b.width)×\(b.height)×\(b.channels)"
    }
    for i in a.pixels.indices where a.pixels[i] != b.pixels[i] && !(a.pixels[i].isNaN && b.pixels[i].isNaN) {
        let c = i / a.planeSize, y = (i % a.planeSize) / a.width, x = i % a.width
        return "pixel (x \(x), y \(y), c \(c)): \(a.pixels[i]) vs \(b.pixels[i])"
    }
    return nil
}
