import Foundation
import Fusion
@testable import Imaging
import Testing
@testable import Daemon

/// A multi-channel ImageJ hyperstack with focus decided on one channel: one decision, one depth map,
/// every channel composed with the same weights (issue 17).
@Suite("Pipeline: multi-channel stacks decided once")
struct JointChannelPipelineTests {
    /// A 2-channel, 6-slice hyperstack (ImageJ page order: channel fastest): channel 0 a textured
    /// focus series, channel 1 an affine copy of it (0.5·v + 40).
    static func writeHyperstack(_ path: String) throws {
        let size = 48, slices = 6
        var pages: [Image] = []
        for z in 0..<slices {
            var pixels = [Float](repeating: 0, count: size * size)
            for y in 0..<size {
                for x in 0..<size {
                    // Left half sharpest at slice 1, right half at slice 4: contrast falls off with |z − focus|.
                    let focus = x < size / 2 ? 1 : 4
                    let contrast = Float(1) / Float(1 + 2 * abs(z - focus))
                    let checker: Float = ((x / 2 + y / 2) % 2 == 0) ? 1 : -1
                    pixels[y * size + x] = (1000 + 800 * contrast * checker).rounded()
                }
            }
            let c0 = Image(width: size, height: size, channels: 1, pixels: pixels)
            pages.append(c0)
            pages.append(Image(width: size, height: size, channels: 1, pixels: pixels.map { (0.5 * $0 + 40).rounded() }))
        }
        let description = "ImageJ=1.54f\nimages=\(2 * slices)\nchannels=2\nslices=\(slices)\nhyperstack=true\nmode=composite\n"
        var options = TIFFWriter.Options()
        options.verbatimDescription = true
        try TIFFWriter.write(pages, format: .uint16, metadata: ImageMetadata(imageDescription: description), to: path,
                             software: "test", options: options)
    }

    @Test func oneDecisionForEveryChannel() throws {
        let dir = TemporaryFolder("joint-channels")
        let input = dir.sub("hyper.tif")
        try Self.writeHyperstack(input)
        var settings = FusionSettings()
        settings.engine = .control
        settings.selection.decision = .evidence
        settings.selection.decisionChannel = .mostSignal
        let outputs = OutputPaths(fused: dir.sub("f.tif"), depth: dir.sub("d.tif"))
        let report = try FusionPipeline(settings: settings).run(inputs: [input], outputs: outputs, clock: { 0 })
        #expect(report.outputs.map { ($0.path as NSString).lastPathComponent }.sorted() == ["d.tif", "f_c0.tif", "f_c1.tif"])
        let c0 = try ImageFile.read(dir.sub("f_c0.tif")).image, c1 = try ImageFile.read(dir.sub("f_c1.tif")).image
        // One set of weights: channel 1 stays the affine copy of channel 0 (within rounding).
        for i in 0..<c0.pixels.count { #expect(abs(c1.pixels[i] - (0.5 * c0.pixels[i] + 40)) <= 1.01) }
        let depth = try ImageFile.read(dir.sub("d.tif")).image
        #expect(abs(depth[6, 24, 0] - 1) < 0.6 && abs(depth[40, 24, 0] - 4) < 0.6, "\(depth[6, 24, 0]) \(depth[40, 24, 0]) \(report.sliceCount)")

        // Decided on luminance (the default), the channels are fused one at a time, each with its own maps.
        settings.selection.decisionChannel = .luminance
        let separate = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("g.tif"), depth: dir.sub("e.tif")),
                                                                  clock: { 0 })
        #expect(separate.outputs.count == 4, "\(separate.outputs.map(\.path))")
    }
}
