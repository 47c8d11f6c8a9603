import Foundation
import Fusion
@testable import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

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
        // One two-channel image (an ImageJ hyperstack with Z = 1), one depth map.
        #expect(report.outputs.map { ($0.path as NSString).lastPathComponent }.sorted() == ["d.tif", "f.tif"])
        #expect(report.channels == 2)
        let (c0, c1) = try Self.channels(dir.sub("f.tif"))
        // One set of weights: channel 1 stays the affine copy of channel 0 (within rounding).
        for i in 0..<c0.pixels.count { #expect(abs(c1.pixels[i] - (0.5 * c0.pixels[i] + 40)) <= 1.01) }
        let depth = try ImageFile.read(dir.sub("d.tif")).image
        #expect(abs(depth[6, 24, 0] - 1) < 0.6 && abs(depth[40, 24, 0] - 4) < 0.6, "\(depth[6, 24, 0]) \(depth[40, 24, 0]) \(report.sliceCount)")

        // Decided on luminance (the default), the channels are fused one at a time, each with its own
        // maps: still one two-channel image, and a depth map with a page per channel.
        settings.selection.decisionChannel = .luminance
        let separate = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("g.tif"), depth: dir.sub("e.tif")),
                                                                  clock: { 0 })
        #expect(separate.outputs.map { ($0.path as NSString).lastPathComponent }.sorted() == ["e.tif", "g.tif"])
        #expect(try TIFFFile(path: dir.sub("e.tif"), memoryBudget: 1 << 30).pages.count == 2)

        // split_channels: a file per channel, as before.
        settings.splitChannels = true
        let split = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("h.tif"), depth: dir.sub("k.tif")),
                                                               clock: { 0 })
        #expect(split.outputs.map { ($0.path as NSString).lastPathComponent }.sorted() == ["h_c0.tif", "h_c1.tif", "k_c0.tif", "k_c1.tif"])
    }

    /// The two channels of a fused two-channel output, checking its ImageJ header says so.
    static func channels(_ path: String) throws -> (Image, Image) {
        let file = try ImageFile.read(path)
        let header = try #require(file.metadata.imageDescription)
        #expect(header.contains("images=2") && header.contains("channels=2") && header.contains("slices=1"), "\(header)")
        let stacks = try StackLoader().open([path])
        #expect(stacks.count == 2 && stacks.allSatisfy { $0.count == 1 }, "read as 2 channels of 1 plane")
        return (try stacks[0].slice(at: 0), try stacks[1].slice(at: 0))
    }

    @Test func anOMETwoChannelStackGivesOneOMEImageWithItsChannelNames() throws {
        let dir = TemporaryFolder("ome-channels")
        let input = dir.sub("s.ome.tif")
        let size = 24
        var pages: [Image] = []
        for z in 0..<3 {
            for c in 0..<2 {
                pages.append(Image(width: size, height: size, channels: 1,
                                   pixels: (0..<(size * size)).map { Float(($0 * (z + 3) + c * 17) % 251 * 10) }))
            }
        }
        let tiffData = (0..<6).map { "<TiffData FirstC=\"\($0 % 2)\" FirstZ=\"\($0 / 2)\" FirstT=\"0\" IFD=\"\($0)\" PlaneCount=\"1\"/>" }.joined()
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0">\
            <Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="uint16" SizeX="\(size)" SizeY="\(size)" SizeC="2" SizeZ="3" SizeT="1">\
            <Channel ID="Channel:0:0" SamplesPerPixel="1" Name="DAPI"/><Channel ID="Channel:0:1" SamplesPerPixel="1" Name="GFP"/>\
            \(tiffData)</Pixels></Image></OME>
            """
        var options = TIFFWriter.Options()
        options.verbatimDescription = true
        try TIFFWriter.write(pages, format: .uint16, metadata: ImageMetadata(imageDescription: xml), to: input, software: "test", options: options)
        var settings = FusionSettings()
        settings.engine = .reference
        let report = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("f.ome.tif")), clock: { 0 })
        #expect(report.outputs.count == 1 && report.channels == 2)
        let header = try #require(try ImageFile.read(dir.sub("f.ome.tif")).metadata.imageDescription)
        #expect(header.contains("SizeC=\"2\"") && header.contains("SizeZ=\"1\""), "\(header)")
        #expect(header.contains("Name=\"DAPI\"") && header.contains("Name=\"GFP\""), "channel names kept: \(header)")
        let stacks = try StackLoader().open([dir.sub("f.ome.tif")])
        #expect(stacks.count == 2 && stacks.allSatisfy { $0.count == 1 })
    }

    @Test func aTifffileShapeDescriptionIsNotCopiedOntoTheOutput() throws {
        let dir = TemporaryFolder("shape-description")
        let input = dir.sub("t.tif")
        let page = Image(width: 16, height: 16, channels: 1, pixels: (0..<256).map { Float($0 % 13 * 100) })
        var options = TIFFWriter.Options()
        options.verbatimDescription = true
        try TIFFWriter.write([page, page, page], format: .uint16, metadata: ImageMetadata(imageDescription: #"{"shape": [3, 16, 16]}"#),
                             to: input, software: "tifffile.py", options: options)
        var settings = FusionSettings()
        settings.engine = .reference
        _ = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("f.tif")), clock: { 0 })
        #expect(try ImageFile.read(dir.sub("f.tif")).metadata.imageDescription == nil)
    }
}

/// Depth maps in the stack's z unit (issue 17): slice indices stored, ImageJ value calibration added.
@Suite("Pipeline: depth map calibration")
struct DepthCalibrationTests {
    @Test(arguments: [("ImageJ=1.54f\nimages=6\nslices=6\nunit=micron\nspacing=0.25\n", "c1=0.25", "vunit=micron"),
                      ("ImageJ=1.54f\nimages=6\nslices=6\n", nil, nil)])
    func depthMapCarriesTheZStep(description: String, step: String?, unit: String?) throws {
        let dir = TemporaryFolder("depth-calibration")
        let input = dir.sub("stack.tif")
        var pages: [Image] = []
        for z in 0..<6 {
            pages.append(Image(width: 32, height: 32, channels: 1,
                               pixels: (0..<1024).map { Float(1000 + (($0 / 2 + $0 / 64) % 2 == 0 ? 1 : -1) * 600 / (1 + abs(z - 2))) }))
        }
        var options = TIFFWriter.Options()
        options.verbatimDescription = true
        try TIFFWriter.write(pages, format: .uint16, metadata: ImageMetadata(imageDescription: description), to: input,
                             software: "test", options: options)
        var settings = FusionSettings()
        settings.engine = .control
        settings.selection.decision = .evidence
        _ = try FusionPipeline(settings: settings).run(inputs: [input], outputs: OutputPaths(fused: dir.sub("f.tif"), depth: dir.sub("d.tif")),
                                                       clock: { 0 })
        let depth = try ImageFile.read(dir.sub("d.tif"))
        let text = depth.metadata.imageDescription ?? ""
        if let step, let unit {
            #expect(text.contains(step) && text.contains(unit) && text.contains("cf=0"), "\(text)")
        } else {
            #expect(!text.contains("c1="), "\(text)")
        }
        // The values stay slice indices.
        #expect(depth.image.pixels.allSatisfy { $0 >= 0 && $0 <= 5 })
        #expect(abs(depth.image.pixels[16 * 32 + 16] - 2) < 0.6)
    }

    @Test func omeGivesTheStepToo() {
        let xml = #"<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"><Image ID="Image:0"><Pixels ID="Pixels:0" DimensionOrder="XYZCT" SizeX="4" SizeY="4" SizeZ="3" SizeC="1" SizeT="1" Type="uint16" PhysicalSizeZ="1.5" PhysicalSizeZUnit="nm"/></Image></OME>"#
        #expect(ZSpacing(description: xml) == ZSpacing(step: 1.5, unit: "nm"))
        #expect(ZSpacing(description: "ImageJ=1.54f\nspacing=-1\n") == nil)
        #expect(ZSpacing(description: nil) == nil)
    }
}
