import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// The progress a pipeline reports is the engine's real slice decodes against the expected number.
@Suite struct PipelineProgressTests {
    final class Calls: @unchecked Sendable {
        let lock = NSLock()
        var seen: [PipelineProgress] = []
        func add(_ p: PipelineProgress) { lock.withLock { seen.append(p) } }
    }

    @Test(arguments: ["reference", "control-evidence", "control-gated", "pairwise", "default-like"])
    func passesMatchTheDecodesCounted(_ kind: String) throws {
        let dir = TemporaryFolder("progress")
        let stack = dir.sub("s.tif")
        let pages = (0..<5).map { z in Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { Float(($0 * (z + 2)) % 97 * 100) }) }
        try TIFFWriter.write(pages, format: .uint16, to: stack)
        var settings = FusionSettings()
        switch kind {
        case "reference": settings.engine = .reference
        case "control-evidence": settings.engine = .control; settings.selection.decision = .evidence
        case "control-gated": settings.engine = .control; settings.selection.decision = .gated
        case "pairwise": settings.engine = .control; settings.composition = .pairwise; settings.projection.mode = .decision
        default:
            // As the default profile, with the control in place of the model: half-resolution generator, depth-of-field blending.
            settings = try ProfileLoader.parse("engine: control\ncomposition: selection\ndecision: gated\nmodel_scale: 2\ndepth_of_field: 2\n", file: "p.yaml")
        }
        var pipeline = FusionPipeline(settings: settings)
        let calls = Calls()
        pipeline.progress = { calls.add($0) }
        _ = try pipeline.run(inputs: [stack], outputs: OutputPaths(fused: dir.sub("f.tif")), clock: { 0 })
        let expected = try #require(calls.seen.first?.expected)
        #expect(expected == 5 * settings.expectedPasses)
        #expect(calls.seen.count == expected, "\(kind): \(calls.seen.count) decodes, \(expected) expected")
        #expect(calls.seen.allSatisfy { $0.decoded < $0.expected }, "the bar reaches its end only when the run returns")
    }
}
