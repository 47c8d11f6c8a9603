import Testing
@testable import Imaging

/// The blurs shared by the simulator and the alignment's renderer.
@Suite struct PlaneBlurTests {
    /// A deterministic test plane: a few bright points and a ramp.
    static func plane(width: Int, height: Int) -> [Float] {
        var p = [Float](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { p[y * width + x] = Float(x + 2 * y) * 0.01 } }
        for (x, y) in [(5, 7), (30, 12), (17, 40), (44, 44), (0, 0)] { p[y * width + x] += 10 }
        return p
    }

    @Test func fastGaussianMatchesTheDirectBoxes() {
        let w = 53, h = 47
        let p = Self.plane(width: w, height: h)
        for sigma in [0.0, 1.5, 4.0, 6.0, 11.0] {
            let direct = PlaneBlur.gaussian(p, width: w, height: h, sigma: sigma)
            let fast = PlaneBlur.fastGaussian(p, width: w, height: h, sigma: sigma)
            let worst = zip(direct, fast).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-4, "σ \(sigma): largest difference \(worst)")
        }
    }

    @Test func boxMeanKeepsAConstantAndAveragesAWindow() {
        let w = 20, h = 9
        let constant = PlaneBlur.boxMean([Float](repeating: 3, count: w * h), width: w, height: h, radius: 4)
        #expect(constant.allSatisfy { abs($0 - 3) < 1e-5 })
        var impulse = [Float](repeating: 0, count: w * h)
        impulse[4 * w + 10] = 25
        let spread = PlaneBlur.boxMean(impulse, width: w, height: h, radius: 2)
        #expect(abs(spread[4 * w + 10] - 1) < 1e-5)       // 25 / 5²
        #expect(abs(spread[2 * w + 8] - 1) < 1e-5)        // corner of the 5×5 window
        #expect(spread[1 * w + 10] == 0 && spread[4 * w + 13] == 0)
    }

    @Test func gaussianKeepsTheLightOfAnInteriorPoint() {
        let w = 64, h = 64
        var p = [Float](repeating: 0, count: w * h)
        p[32 * w + 32] = 1
        for sigma in [1.0, 3.0, 5.0] {
            let total = PlaneBlur.gaussian(p, width: w, height: h, sigma: sigma).reduce(0, +)
            #expect(abs(total - 1) < 1e-4, "σ \(sigma): sum \(total)")
        }
    }
}
