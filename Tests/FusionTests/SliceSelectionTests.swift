import Foundation
import FusionDiff
import Imaging
import NN
import SeededRandom
import Simulation
import Testing
@testable import Fusion

/// N-slice fusion by selection (issue 17): decisions between measured slices, composition once.
@Suite("Slice selection engine")
struct SliceSelectionTests {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("models/default.safetensors").path

    /// The shipped model as the default profile runs it (K = 1, gated decisions at half resolution).
    static func defaultEngine() throws -> SliceSelectionEngine {
        let data = try #require(FileManager.default.contents(atPath: modelPath))
        let model = try ModelFile.parse(data, path: modelPath)
        let generator = try FusionDiffGenerator(model: model, path: modelPath, steps: 1)
        return SliceSelectionEngine(generator: generator, selection: SelectionOptions(decision: .gated, modelScale: 2))
    }

    static func controlEngine(_ decision: SelectionOptions.Decision = .gated) -> SliceSelectionEngine {
        SliceSelectionEngine(generator: FocusMeasureGenerator(), selection: SelectionOptions(decision: decision))
    }

    /// A deterministic fluorescence-like texture: spots and filaments on a dark field.
    static func texture(_ size: Int = 96, seed: UInt64 = 3) -> Image {
        var random = SplitMix64(seed: seed)
        var pixels = [Float](repeating: 100, count: size * size)
        for _ in 0..<(size * size / 40) {
            let x = Int(random.uniformFloat() * Float(size)), y = Int(random.uniformFloat() * Float(size))
            let brightness = 500 + 3000 * random.uniformFloat()
            for dy in -1...1 { for dx in -1...1 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                pixels[(y + dy) * size + x + dx] += brightness * (dx == 0 && dy == 0 ? 1 : 0.4)
            } }
        }
        for i in 0..<size { pixels[(size / 3) * size + i] += 1500; pixels[i * size + (2 * size / 3)] += 1200 }
        return Image(width: size, height: size, channels: 1, pixels: pixels)
    }

    static func simulate(slices: Int, photons: Double, seed: UInt64 = 7, texture: Image = texture()) throws -> SimulatedStack {
        try MicroscopeSimulator(settings: MicroscopeSimulation(slices: slices, photons: photons, seed: seed)).simulate(texture: texture)
    }

    static func textured(_ s: SimulatedStack) -> [Bool] {
        let truth = s.groundTruth.plane(0)
        let mean = truth.boxMean(radius: 3)
        var square = truth
        for i in 0..<square.count { square.values[i] *= square.values[i] }
        let meanSquare = square.boxMean(radius: 3)
        let sorted = truth.values.sorted()
        let range = sorted[Int(0.99 * Double(sorted.count - 1))] - sorted[Int(0.01 * Double(sorted.count - 1))]
        return (0..<truth.count).map { (meanSquare.values[$0] - mean.values[$0] * mean.values[$0]).squareRoot() >= 0.05 * range }
    }

    static func depthMAE(_ result: FusionResult, _ s: SimulatedStack) -> Double {
        let mask = textured(s)
        var sum = 0.0, count = 0.0
        for p in 0..<mask.count where mask[p] {
            sum += abs(Double(result.depth.pixels[p]) - Double(s.height.values[p]))
            count += 1
        }
        return sum / max(count, 1)
    }

    @Test("a noisy 100-photon fluorescence stack: the default engine's depth is right within a slice")
    func noisyStackDepth() throws {
        let s = try Self.simulate(slices: 12, photons: 100)
        let result = try Self.defaultEngine().fuse(s.stack)
        let mae = Self.depthMAE(result, s)
        #expect(mae < 1, "depth MAE \(mae) slices")
        // Nothing piles up on the last slices (the pairwise collapse this engine replaces).
        let last = result.depth.pixels.filter { $0 >= 10.5 }.count
        let truthLast = s.height.values.filter { $0 >= 10.5 }.count
        #expect(last <= truthLast + result.depth.pixels.count / 20)
    }

    @Test("reversing the slice order mirrors the depth map and leaves the fused image unchanged", arguments: [false, true])
    func reversal(model: Bool) throws {
        let s = try Self.simulate(slices: 10, photons: 300, seed: 11)
        let engine = model ? try Self.defaultEngine() : Self.controlEngine()
        let forward = try engine.fuse(s.stack)
        let reversed = try engine.fuse(InMemoryStack(slices: s.slices.reversed(), format: .uint16))
        var depthDifference = 0.0, sum = 0.0, peak: Float = 0
        for p in 0..<forward.depth.pixels.count {
            depthDifference += abs(Double(forward.depth.pixels[p] - (9 - reversed.depth.pixels[p])))
        }
        for i in 0..<forward.fused.pixels.count {
            let d = Double(forward.fused.pixels[i] - reversed.fused.pixels[i])
            sum += d * d
            peak = max(peak, forward.fused.pixels[i])
        }
        let rms = (sum / Double(forward.fused.pixels.count)).squareRoot() / Double(peak)
        #expect(rms <= 0.001, "fused images differ by \(rms * 100) % RMS of the peak")
        #expect(depthDifference / Double(forward.depth.pixels.count) < 0.05, "depth maps are not mirrored")
    }

    @Test("sequential and tree order decide alike")
    func orders() throws {
        let s = try Self.simulate(slices: 9, photons: 300, seed: 5)
        let sequential = try Self.controlEngine(.evidence).fuse(s.stack)
        let tree = try SliceSelectionEngine(generator: nil, order: .tree, selection: SelectionOptions(decision: .evidence)).fuse(s.stack)
        #expect(sequential.fused == tree.fused)
        #expect(sequential.depth == tree.depth)
    }

    @Test("noise blending beats the best pure selection in heavy photon noise; every pixel stays a convex blend")
    func noiseBlending() throws {
        let s = try Self.simulate(slices: 16, photons: 50, seed: 2)
        let blended = try Self.controlEngine(.evidence).fuse(s.stack)
        var pure = SelectionOptions(decision: .evidence)
        pure.depthOfField = 0
        let selected = try SliceSelectionEngine(generator: nil, selection: pure).fuse(s.stack)
        let peak = Double(s.groundTruth.pixels.max()!)
        let pBlend = FusionMetrics.psnr(blended.fused, reference: s.groundTruth, peak: peak)
        let pPure = FusionMetrics.psnr(selected.fused, reference: s.groundTruth, peak: peak)
        #expect(pBlend > pPure + 1, "blended \(pBlend) dB, pure selection \(pPure) dB")
        for p in 0..<blended.fused.pixels.count {
            let values = s.slices.map { $0.pixels[p] }
            #expect(blended.fused.pixels[p] >= values.min()! - 1e-3 && blended.fused.pixels[p] <= values.max()! + 1e-3)
        }
        #expect(blended.confidence.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test("multi-channel stacks: one decision for every channel", arguments: [SelectionOptions.DecisionChannel.index(0), .mostSignal])
    func sharedDecisions(channel: SelectionOptions.DecisionChannel) throws {
        let s = try Self.simulate(slices: 8, photons: 300, seed: 4)
        // Channel 1 is an affine copy of channel 0: with one set of weights its fused image must be
        // the same affine copy of channel 0's.
        let slices = s.slices.map { slice in
            Image(planes: [slice, Image(width: slice.width, height: slice.height, channels: 1, pixels: slice.pixels.map { 0.5 * $0 + 20 })])
        }
        var options = SelectionOptions(decision: .evidence)
        options.decisionChannel = channel
        let result = try SliceSelectionEngine(generator: nil, selection: options).fuse(InMemoryStack(slices: slices, format: .uint16))
        let n = result.fused.planeSize
        var worst: Float = 0
        for p in 0..<n { worst = max(worst, abs(result.fused.pixels[n + p] - (0.5 * result.fused.pixels[p] + 20))) }
        #expect(worst < 0.01)
        if channel == .index(0) {
            // Decided on channel 0: the same decisions as channel 0 fused alone.
            let single = try SliceSelectionEngine(generator: nil, selection: SelectionOptions(decision: .evidence)).fuse(s.stack)
            #expect(single.depth.pixels == result.depth.pixels)
        }
    }

    @Test("the fine window keeps steep steps of the specimen sharp in a clean stack")
    func fineWindowAtSteps() throws {
        var settings = MicroscopeSimulation(slices: 16, photons: 3000, seed: 21)
        settings.surfaceSteps = 3
        let s = try MicroscopeSimulator(settings: settings).simulate(texture: Self.texture())
        var coarse = SelectionOptions(decision: .evidence)
        coarse.fineWindow = 0
        let withFine = try SliceSelectionEngine(generator: nil, selection: SelectionOptions(decision: .evidence)).fuse(s.stack)
        let without = try SliceSelectionEngine(generator: nil, selection: coarse).fuse(s.stack)
        #expect(Self.depthMAE(withFine, s) < Self.depthMAE(without, s),
                "depth MAE with the fine window \(Self.depthMAE(withFine, s)), without \(Self.depthMAE(without, s))")
    }

    @Test("the same result for 1 and 3 threads: planes prepared in parallel, per-pixel loops in parallel ranges (issue 21)",
          arguments: [PairOrder.sequential, .tree])
    func threadCountDoesNotChangeTheResult(order: PairOrder) throws {
        // 256² so that the per-pixel loops are split across threads; the control as the generator,
        // at half resolution like the default profile's model.
        let s = try Self.simulate(slices: 5, photons: 100, texture: Self.texture(256))
        let engine = SliceSelectionEngine(generator: FocusMeasureGenerator(), order: order,
                                          selection: SelectionOptions(decision: .gated, modelScale: 2))
        let one = try Compute.withThreads(1) { try engine.fuse(s.stack) }
        let three = try Compute.withThreads(3) { try engine.fuse(s.stack) }
        for (a, b) in [(one.fused, three.fused), (one.depth, three.depth), (one.confidence, three.confidence)] {
            #expect(a.pixels.map(\.bitPattern) == b.pixels.map(\.bitPattern))
        }
    }

    @Test("a missing decision channel is refused")
    func badChannel() throws {
        let s = try Self.simulate(slices: 3, photons: 300)
        var options = SelectionOptions(decision: .evidence)
        options.decisionChannel = .index(2)
        #expect(throws: FusionError.self) { try SliceSelectionEngine(generator: nil, selection: options).fuse(s.stack) }
    }

    @Test("two sources: pure either/or selection (no noise blending)")
    func pairs() throws {
        let sharp = Synthetic.texture(width: 64, height: 64, seed: 9)
        let blurred = Synthetic.blurred(sharp, sigma: 3)
        var left = sharp, right = blurred
        for y in 0..<64 { for x in 32..<64 { left.pixels[y * 64 + x] = blurred.pixels[y * 64 + x]; right.pixels[y * 64 + x] = sharp.pixels[y * 64 + x] } }
        let result = try Self.controlEngine(.evidence).fuse(InMemoryStack(slices: [left, right], format: .uint8))
        // Away from the seam, each half is its sharp source exactly.
        for y in 0..<64 {
            for x in [4, 10, 20] { #expect(result.fused.pixels[y * 64 + x] == left.pixels[y * 64 + x]) }
            for x in [44, 54, 60] { #expect(result.fused.pixels[y * 64 + x] == right.pixels[y * 64 + x]) }
        }
    }
}
