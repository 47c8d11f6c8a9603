import Imaging
import Testing
@testable import Fusion

@Suite struct ReferenceEngineTests {
    @Test func fusedIsCloserToTheSharpOriginalThanEitherSourceOrTheirAverage() throws {
        let (original, a, b) = Synthetic.halfBlurredPair()
        let result = try ReferenceEngine().fuse(InMemoryStack(slices: [a, b], format: .uint8))
        let fused = FusionMetrics.psnr(result.fused, reference: original, peak: 255)
        let psnrA = FusionMetrics.psnr(a, reference: original, peak: 255)
        let psnrB = FusionMetrics.psnr(b, reference: original, peak: 255)
        let psnrAverage = FusionMetrics.psnr(Synthetic.average(a, b), reference: original, peak: 255)
        #expect(fused > psnrA + 3)
        #expect(fused > psnrB + 3)
        #expect(fused > psnrAverage + 3)
    }

    @Test func colourStackKeepsChannelsAndRange() throws {
        let (_, a, b) = Synthetic.halfBlurredPair(width: 48, height: 32, channels: 3)
        let result = try ReferenceEngine(levels: 3).fuse(InMemoryStack(slices: [a, b], format: .uint8))
        #expect(result.fused.channels == 3)
        #expect(result.depth.channels == 1 && result.confidence.channels == 1)
        let lo = min(a.pixels.min()!, b.pixels.min()!), hi = max(a.pixels.max()!, b.pixels.max()!)
        #expect(result.fused.pixels.allSatisfy { $0 >= lo && $0 <= hi })
    }

    @Test func depthIsTheSharpestSlice() throws {
        let stack = Synthetic.bandStack(slices: 4)
        let result = try ReferenceEngine().fuse(stack)
        #expect(bandAccuracy(result.depth, bandWidth: 16, margin: 4) > 0.95)
        #expect(result.confidence.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func singleSliceIsReturnedUnchanged() throws {
        let image = Synthetic.texture(width: 20, height: 12)
        let result = try ReferenceEngine().fuse(InMemoryStack(slices: [image], format: .uint8))
        for (x, y) in zip(result.fused.pixels, image.pixels) { #expect(abs(x - y) < 1e-3) }
        #expect(result.depth.pixels.allSatisfy { $0 == 0 })
    }

    @Test func sliceOfTheWrongSizeIsATypedError() throws {
        struct Mismatched: SliceSource {
            var geometry: SliceGeometry { SliceGeometry(width: 8, height: 8, channels: 1, format: .uint8) }
            var count: Int { 2 }
            var metadata: ImageMetadata { ImageMetadata() }
            func sliceName(at index: Int) -> String { "page \(index + 1)" }
            func slice(at index: Int) throws -> Image { Image(width: index == 0 ? 8 : 9, height: 8, channels: 1) }
        }
        #expect(throws: FusionError.self) { try ReferenceEngine().fuse(Mismatched()) }
        #expect(throws: FusionError.self) { try PairwiseEngine(generator: FocusMeasureGenerator()).fuse(Mismatched()) }
    }
}

/// Fraction of pixels at least `margin` away from band edges whose rounded depth is their band.
func bandAccuracy(_ depth: Image, bandWidth: Int, margin: Int) -> Double {
    var good = 0, total = 0
    for y in 0..<depth.height {
        for x in 0..<depth.width {
            let inBand = x % bandWidth
            if inBand < margin || inBand >= bandWidth - margin { continue }
            total += 1
            if Int(depth[x, y, 0].rounded()) == x / bandWidth { good += 1 }
        }
    }
    return Double(good) / Double(total)
}
