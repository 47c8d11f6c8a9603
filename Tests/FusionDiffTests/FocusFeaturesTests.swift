import Testing
@testable import FusionDiff

@Suite("Focus features")
struct FocusFeaturesTests {
    /// A checkerboard-like texture in [−0.8, 0.8].
    static func texture(_ w: Int, _ h: Int) -> [Float] {
        (0..<(w * h)).map { p in ((p % w + p / w) % 2 == 0 ? 0.8 : -0.8) }
    }

    @Test("sharp source scores +1, flat source −1, equal sources 0")
    func ordering() {
        let (w, h) = (16, 16)
        let sharp = Self.texture(w, h)
        let flat = [Float](repeating: 0.1, count: w * h)
        let f = FocusFeatures.compute(sources: sharp + flat, batch: 1, imageChannels: 1, height: h, width: w)
        #expect(f.count == 2 * w * h)
        #expect(f[0..<(w * h)].allSatisfy { $0 > 0.99 })
        #expect(f[(w * h)...].allSatisfy { $0 == -1 })
        let same = FocusFeatures.compute(sources: sharp + sharp, batch: 1, imageChannels: 1, height: h, width: w)
        #expect(same.allSatisfy { abs($0) < 0.01 })
        let none = FocusFeatures.compute(sources: flat + flat, batch: 1, imageChannels: 1, height: h, width: w)
        #expect(none.allSatisfy { $0 == -1 })
    }

    @Test("half-sharp sources: features pick the sharp half of each, away from the seam")
    func halves() {
        let (w, h) = (32, 8)
        let tex = Self.texture(w, h)
        var s1 = [Float](repeating: 0, count: w * h), s2 = s1
        for y in 0..<h { for x in 0..<w { if x < w / 2 { s1[y * w + x] = tex[y * w + x] } else { s2[y * w + x] = tex[y * w + x] } } }
        let f = FocusFeatures.compute(sources: s1 + s2, batch: 1, imageChannels: 1, height: h, width: w)
        for y in 0..<h {
            #expect(f[y * w + 2] > 0.9 && f[w * h + y * w + 2] < -0.9)
            #expect(f[y * w + w - 3] < -0.9 && f[w * h + y * w + w - 3] > 0.9)
        }
    }

    @Test("RGB sources use the grey level; batch items are independent; range [−1, 1]")
    func rgbAndBatch() {
        let (w, h) = (8, 8)
        let tex = Self.texture(w, h)
        let flat = [Float](repeating: 0, count: w * h)
        let rgbItem = tex + tex + tex + flat + flat + flat
        let swapped = flat + flat + flat + tex + tex + tex
        let f = FocusFeatures.compute(sources: rgbItem + swapped, batch: 2, imageChannels: 3, height: h, width: w)
        let plane = w * h
        #expect(f.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(Array(f[0..<plane]) == Array(f[(3 * plane)..<(4 * plane)]))
        #expect(Array(f[plane..<(2 * plane)]) == Array(f[(2 * plane)..<(3 * plane)]))
    }
}
