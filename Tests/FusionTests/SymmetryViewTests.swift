import Testing
import Imaging
import FusionDiff
@testable import Fusion

/// The test-time symmetry ensemble of `FusionDiffGenerator` (`views` in a profile).
@Suite struct SymmetryViewTests {
    static func ramp(width: Int, height: Int, channels: Int) -> Image {
        Image(width: width, height: height, channels: channels,
              pixels: (0..<(width * height * channels)).map { Float($0 % 97) / 97 - 0.5 })
    }

    @Test("every view is undone by its inverse, on a non-square multi-channel image")
    func inverseUndoesEveryView() {
        let image = Self.ramp(width: 6, height: 4, channels: 2)
        for view in SymmetryView.all {
            let seen = view.apply(image)
            #expect(seen.width == (view.transposes ? 4 : 6) && seen.height == (view.transposes ? 6 : 4))
            #expect(view.invert(seen) == image, "\(view)")
        }
        #expect(Set(SymmetryView.all.map { "\($0)" }).count == 8, "eight distinct views")
    }

    @Test("mirroring and transposing move pixels where they should")
    func viewsMovePixels() {
        let image = Self.ramp(width: 3, height: 2, channels: 1)
        let mirrored = SymmetryView(swapsSources: false, mirrorsX: true, mirrorsY: false, transposes: false).apply(image)
        #expect(mirrored[0, 1, 0] == image[2, 1, 0])
        let transposed = SymmetryView(swapsSources: false, mirrorsX: false, mirrorsY: false, transposes: true).apply(image)
        #expect(transposed.width == 2 && transposed[1, 2, 0] == image[2, 1, 0])
    }

    @Test("n views = the mean of the single views, each generated on the transformed pair and mapped back")
    func viewsAverageTheSingleViews() throws {
        let config = FusionDiffConfiguration(imageChannels: 1, width: 8, mults: [1, 2], resBlocks: 1, groups: 4,
                                             timeChannels: 8, timeEmbedDim: 16, dropout: 0, prediction: .x0, focusFeatures: true)
        let network = UNet(configuration: config, seed: 4)
        let a = Self.ramp(width: 16, height: 8, channels: 1)
        var b = a
        for i in b.pixels.indices { b.pixels[i] = -a.pixels[i] * 0.5 }
        let one = FusionDiffGenerator(network: network, steps: 1, seed: 9)
        let two = FusionDiffGenerator(network: network, steps: 1, seed: 9, views: 2)
        let single = try one.generate(a, b)
        let swapped = try one.generate(b, a)
        let averaged = try two.generate(a, b)
        #expect(averaged.width == 16 && averaged.height == 8)
        for i in averaged.pixels.indices {
            #expect(abs(averaged.pixels[i] - (single.pixels[i] + swapped.pixels[i]) / 2) < 1e-5)
        }
        #expect(single != swapped, "the views differ, so the average is not a copy of one of them")
        // A transposed view runs the network on a 8×16 pair and maps the result back to 16×8.
        let eight = try FusionDiffGenerator(network: network, steps: 1, seed: 9, views: 8).generate(a, b)
        #expect(eight.width == 16 && eight.height == 8 && eight.pixels.allSatisfy(\.isFinite))
    }
}
