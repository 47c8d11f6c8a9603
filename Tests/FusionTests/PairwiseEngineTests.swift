import Imaging
import Testing
@testable import Fusion

@Suite struct PairwiseEngineTests {
    @Test(arguments: PairOrder.allCases, [4, 5])
    func depthRecoversTheBands(order: PairOrder, slices: Int) throws {
        let stack = Synthetic.bandStack(slices: slices)
        let result = try PairwiseEngine(generator: FocusMeasureGenerator(), order: order).fuse(stack)
        #expect(bandAccuracy(result.depth, bandWidth: 16, margin: 4) > 0.95)
        #expect(result.confidence.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
        // In-band pixels come from their sharp slice: the fused image is the sharp original there.
        let original = Synthetic.composite(try stack.slice(at: 0), try stack.slice(at: 1)) { x, _ in x < 16 }
        var close = 0, total = 0
        for y in 0..<original.height {
            for x in 4..<12 {
                total += 1
                if abs(result.fused[x, y, 0] - original[x, y, 0]) < 1e-2 { close += 1 }
            }
        }
        #expect(Double(close) / Double(total) > 0.95)
    }

    @Test func sixteenBitStackKeepsItsRange() throws {
        let stack = Synthetic.bandStack(slices: 3, peak: 52000, offset: 1200, format: .uint16)
        let slices = try (0..<3).map { try stack.slice(at: $0) }
        let lo = slices.map { $0.pixels.min()! }.min()!, hi = slices.map { $0.pixels.max()! }.max()!
        for order in PairOrder.allCases {
            let fused = try PairwiseEngine(generator: FocusMeasureGenerator(), order: order).fuse(stack).fused
            #expect(fused.pixels.allSatisfy { $0 >= lo && $0 <= hi })
            // Still in 16-bit units, not squeezed into 0…1 or 0…255.
            #expect(fused.pixels.max()! > hi - (hi - lo) * 0.1)
            #expect(fused.pixels.min()! < lo + (hi - lo) * 0.1)
        }
    }

    @Test func colourGeneratorOnAGreyStack() throws {
        let stack = Synthetic.bandStack(slices: 3)
        let result = try PairwiseEngine(generator: FocusMeasureGenerator(channels: 3)).fuse(stack)
        #expect(result.fused.channels == 1)
        #expect(bandAccuracy(result.depth, bandWidth: 16, margin: 4) > 0.95)
    }

    @Test func paddingToTheGeneratorsSizeMultipleIsCroppedBack() throws {
        let (_, a, b) = Synthetic.halfBlurredPair(width: 37, height: 29)
        let generator = ClosureGenerator(channels: 1, sizeMultiple: 8) { s1, _ in s1 }
        let result = try PairwiseEngine(generator: generator, projection: ProjectionOptions(mode: .none))
            .fuse(InMemoryStack(slices: [a, b], format: .uint8))
        #expect(result.fused.width == 37 && result.fused.height == 29)
        for i in 0..<a.pixels.count { #expect(abs(result.fused.pixels[i] - a.pixels[i]) < 1e-2) }
    }

    @Test func generatorReturningTheWrongShapeIsATypedError() throws {
        let (_, a, b) = Synthetic.halfBlurredPair(width: 16, height: 16)
        let generator = ClosureGenerator(channels: 1) { s1, _ in Image(width: s1.width + 1, height: s1.height, channels: 1) }
        #expect(throws: FusionError.self) {
            try PairwiseEngine(generator: generator).fuse(InMemoryStack(slices: [a, b], format: .uint8))
        }
    }

    @Test func tiledAndUntiledAgree() throws {
        let stack = Synthetic.bandStack(slices: 3, bandWidth: 30, height: 70)
        // A smooth local generator: tiles can only differ through their borders, which the overlap hides.
        let smooth = ClosureGenerator(channels: 1, sizeMultiple: 8) { s1, s2 in
            let mean = Synthetic.average(s1, s2)
            return Image(width: mean.width, height: mean.height, channels: 1, pixels: mean.plane(0).convolved([0.25, 0.5, 0.25]).values)
        }
        for mode in ProjectionMode.allCases {
            let options = ProjectionOptions(mode: mode)
            let whole = try PairwiseEngine(generator: smooth, projection: options).fuse(stack).fused
            let tiled = try PairwiseEngine(generator: smooth, projection: options, tiling: TileOptions(size: 32, overlap: 8)).fuse(stack).fused
            let worst = zip(whole.pixels, tiled.pixels).map { abs($0 - $1) }.max()!
            #expect(worst < 0.5, "mode \(mode): tiled differs by \(worst)")
        }
        // The control decides per pixel; across tile borders its decisions may flip in a few pixels.
        let control = FocusMeasureGenerator()
        let whole = try PairwiseEngine(generator: control).fuse(stack).fused
        let tiled = try PairwiseEngine(generator: control, tiling: TileOptions(size: 32, overlap: 8)).fuse(stack).fused
        let meanDifference = zip(whole.pixels, tiled.pixels).map { abs($0 - $1) }.reduce(0, +) / Float(whole.pixels.count)
        #expect(meanDifference < 0.5)
    }

    @Test func tileLayoutCoversTheImageWithAPartitionOfUnity() {
        let starts = PairwiseEngine.tileStarts(length: 100, size: 32, overlap: 8)
        #expect(starts == [0, 24, 48, 68])
        let weights = PairwiseEngine.rampWeights(starts: starts, size: 32, length: 100)
        var total = [Float](repeating: 0, count: 100)
        for (t, s) in starts.enumerated() { for d in 0..<32 { total[s + d] += weights[t][d] } }
        #expect(total.allSatisfy { $0 > 0.3 })
        #expect(total[0] == 1 && total[99] == 1)
        #expect(throws: FusionError.self) {
            try PairwiseEngine(generator: FocusMeasureGenerator(), tiling: TileOptions(size: 8, overlap: 8))
                .fuse(Synthetic.bandStack(slices: 2))
        }
    }

    @Test func constantStackFusesToItsValue() throws {
        let flat = Image(width: 12, height: 10, channels: 1, repeating: 300)
        let result = try PairwiseEngine(generator: FocusMeasureGenerator()).fuse(InMemoryStack(slices: [flat, flat], format: .uint16))
        #expect(result.fused.pixels.allSatisfy { $0 == 300 })
    }
}
