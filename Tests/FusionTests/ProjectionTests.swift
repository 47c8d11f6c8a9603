import Foundation
import Imaging
import Testing
@testable import Fusion

@Suite struct ProjectionTests {
    /// Two unrelated random sources and a generator that returns noise unrelated to both.
    static func noisyPair(channels: Int) -> (Image, Image, ClosureGenerator) {
        let a = Synthetic.texture(width: 40, height: 32, channels: channels, seed: 11)
        let b = Synthetic.texture(width: 40, height: 32, channels: channels, seed: 12)
        let generator = ClosureGenerator(channels: channels) { s1, _ in
            var noise = Synthetic.texture(width: s1.width, height: s1.height, channels: s1.channels, peak: 2, seed: 13)
            for i in 0..<noise.pixels.count { noise.pixels[i] -= 1 }
            return noise
        }
        return (a, b, generator)
    }

    @Test(arguments: [ProjectionMode.decision, .soft], [1, 3])
    func outputLiesBetweenTheSourcesPerPixelAndChannel(mode: ProjectionMode, channels: Int) throws {
        let (a, b, generator) = Self.noisyPair(channels: channels)
        let engine = PairwiseEngine(generator: generator, projection: ProjectionOptions(mode: mode))
        let fused = try engine.fuse(InMemoryStack(slices: [a, b], format: .uint8)).fused
        #expect(fused.channels == channels)
        for i in 0..<fused.pixels.count {
            let lo = min(a.pixels[i], b.pixels[i]), hi = max(a.pixels[i], b.pixels[i])
            #expect(fused.pixels[i] >= lo - 1e-3 && fused.pixels[i] <= hi + 1e-3)
        }
    }

    @Test func luminanceGeneratorOnColourBlendsEveryChannelBetweenTheSources() throws {
        let a = Synthetic.texture(width: 40, height: 32, channels: 3, seed: 21)
        let b = Synthetic.texture(width: 40, height: 32, channels: 3, seed: 22)
        let fused = try PairwiseEngine(generator: FocusMeasureGenerator(channels: 1))
            .fuse(InMemoryStack(slices: [a, b], format: .uint8)).fused
        #expect(fused.channels == 3)
        for i in 0..<fused.pixels.count {
            #expect(fused.pixels[i] >= min(a.pixels[i], b.pixels[i]) - 1e-3)
            #expect(fused.pixels[i] <= max(a.pixels[i], b.pixels[i]) + 1e-3)
        }
    }

    @Test func weightIsOneWhereTheGeneratedImageEqualsTheFirstSource() {
        let a = Synthetic.texture(width: 24, height: 20, seed: 3), b = Synthetic.texture(width: 24, height: 20, seed: 4)
        let w = Projection(options: ProjectionOptions()).fittedWeights(generated: a, a: a, b: b)
        #expect(w.values.allSatisfy { $0 > 0.999 })
        let w0 = Projection(options: ProjectionOptions()).fittedWeights(generated: b, a: a, b: b)
        #expect(w0.values.allSatisfy { $0 < 0.001 })
    }

    @Test func aSmoothOffsetOfTheGeneratedImageDoesNotMoveTheWeights() {
        // A generated image with the first source's detail but a smooth shading added (what an x₀
        // model at K = 1 leaves): the weights are fitted on detail, so they still say "first source".
        let a = Synthetic.texture(width: 48, height: 40, peak: 2, seed: 7), b = Synthetic.texture(width: 48, height: 40, peak: 2, seed: 8)
        var generated = a
        for y in 0..<40 { for x in 0..<48 { generated[x, y, 0] += 0.4 + 0.01 * Float(x) - 0.005 * Float(y) } }
        let projector = Projection(options: ProjectionOptions())
        let w = projector.fittedWeights(generated: generated, a: a, b: b)
        #expect(w.values.allSatisfy { $0 > 0.95 }, "min \(w.values.min() ?? 0)")
    }

    @Test func halfAndHalfGivesOneStraightBoundaryAndNoIslands() {
        let a = Synthetic.texture(width: 48, height: 40, seed: 5), b = Synthetic.texture(width: 48, height: 40, seed: 6)
        var generated = b
        for y in 0..<40 { for x in 0..<24 { generated[x, y, 0] = a[x, y, 0] } }
        let projector = Projection(options: ProjectionOptions(bandRadius: 0))
        let map = projector.decisionWeights(fitted: projector.fittedWeights(generated: generated, a: a, b: b),
                                            pixel: projector.pixelWeights(generated: generated, a: a, b: b),
                                            guide: a.luminance())
        var boundaries = Set<Int>()
        for y in 0..<40 {
            let row = (0..<48).map { map.values[y * 48 + $0] }
            let edge = row.firstIndex(of: 0) ?? 48
            #expect(row[..<edge].allSatisfy { $0 == 1 } && row[edge...].allSatisfy { $0 == 0 })
            boundaries.insert(edge)
        }
        #expect(boundaries.count == 1)
        #expect(abs((boundaries.first ?? 0) - 24) <= 1)

        // With a band, blending stays within the band around the boundary.
        let banded = Projection(options: ProjectionOptions(bandRadius: 2))
            .decisionWeights(fitted: projector.fittedWeights(generated: generated, a: a, b: b),
                             pixel: projector.pixelWeights(generated: generated, a: a, b: b), guide: a.luminance())
        for y in 0..<40 {
            for x in 0..<48 where abs(x - 24) > 4 {
                #expect(banded.values[y * 48 + x] == (x < 24 ? 1 : 0))
            }
        }
    }

    @Test func smallIslandsAreRemoved() {
        var map = Plane(width: 30, height: 30, repeating: 1)
        for y in 10..<13 { for x in 10..<13 { map.values[y * 30 + x] = 0 } }
        map.values[0] = 0
        for y in 0..<30 { for x in 20..<30 { map.values[y * 30 + x] = 0 } }
        let cleaned = Projection.removingIslands(map, minimumPixels: 20)
        for y in 0..<30 {
            for x in 0..<30 { #expect(cleaned.values[y * 30 + x] == (x < 20 ? 1 : 0)) }
        }
    }

    @Test func noneReturnsTheRawGeneratedImage() throws {
        let (_, a, b) = Synthetic.halfBlurredPair(width: 32, height: 32)
        let generator = ClosureGenerator(channels: 1) { s1, s2 in Synthetic.average(s1, s2) }
        let fused = try PairwiseEngine(generator: generator, projection: ProjectionOptions(mode: .none))
            .fuse(InMemoryStack(slices: [a, b], format: .uint8)).fused
        let expected = Synthetic.average(a, b)
        for i in 0..<fused.pixels.count { #expect(abs(fused.pixels[i] - expected.pixels[i]) < 1e-2) }
    }

    @Test func optionsDecodeWithDefaultsAndRejectBadValues() throws {
        let decoded = try JSONDecoder().decode(ProjectionOptions.self, from: Data(#"{"mode":"soft"}"#.utf8))
        #expect(decoded == ProjectionOptions(mode: .soft))
        #expect(throws: FusionError.self) { try ProjectionOptions(window: 0).validate() }
    }
}
