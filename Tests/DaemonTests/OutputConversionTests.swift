import Foundation
import Imaging
import Testing
@testable import Daemon
@testable import Pipeline

/// `FusionPipeline.convert`: narrowing keeps the data's grey levels, widening loses nothing, and the
/// pipeline report records the mapping.
@Suite struct OutputConversionTests {
    static func image(_ values: [Float]) -> Image {
        Image(width: values.count, height: 1, channels: 1, pixels: values)
    }

    @Test func narrowingMapsTheDataRangeOntoTheTargetRange() throws {
        let (out, conversion) = FusionPipeline.convert(Self.image([73, 419.5, 766]), from: .uint16, to: .uint8, window: nil, path: "f.tif")
        #expect(out.pixels == [0, 127.5, 255])
        let c = try #require(conversion)
        #expect(c.source == .dataRange && c.window == OutputWindow(low: 73, high: 766) && c.target == OutputWindow(low: 0, high: 255))
        #expect(c.description == "uint16 → uint8: window 73…766 → 0…255 (the fused image's range)")
    }

    @Test func anExplicitWindowSaturatesOutside() throws {
        let (out, conversion) = FusionPipeline.convert(Self.image([-1, 0, 0.5, 1, 2]), from: .float32, to: .uint16,
                                                       window: OutputWindow(low: 0, high: 1), path: "f.tif")
        #expect(out.pixels == [0, 0, 32767.5, 65535, 65535])
        #expect(conversion?.source == .explicit)
    }

    @Test func wideningIsLosslessAndTheSameFormatUnchanged() throws {
        let (wide, conversion) = FusionPipeline.convert(Self.image([0, 1, 255]), from: .uint8, to: .uint16, window: nil, path: "f.tif")
        #expect(wide.pixels == [0, 257, 65535])
        #expect(conversion?.source == .fullRange)
        let same = FusionPipeline.convert(Self.image([3, 70000]), from: .uint16, to: .uint16, window: nil, path: "f.tif")
        #expect(same.image.pixels == [3, 70000] && same.conversion == nil)
        let float = FusionPipeline.convert(Self.image([3, 7]), from: .uint16, to: .float32, window: nil, path: "f.tif")
        #expect(float.image.pixels == [3, 7] && float.conversion == nil)
        // A constant image has no range to stretch: it maps onto 0, without dividing by zero.
        let flat = FusionPipeline.convert(Self.image([500, 500]), from: .uint16, to: .uint8, window: nil, path: "f.tif")
        #expect(flat.image.pixels == [0, 0])
    }

    /// The whole pipeline: a dim 16-bit stack fused to uint8 keeps its grey levels and the report says how.
    @Test func thePipelineReportRecordsTheWindow() throws {
        let dir = TemporaryFolder("conversion")
        let stack = try Self.writeDimStack(dir.sub("dim.tif"))
        var settings = FusionSettings()
        settings.outputFormat = .uint8
        let out = dir.sub("f.tif")
        let report = try FusionPipeline(settings: settings).run(inputs: [stack], outputs: OutputPaths(fused: out), clock: { 0 })
        let conversion = try #require(report.outputConversions.first)
        #expect(report.outputConversions.count == 1 && conversion.path == out)
        #expect(conversion.source == .dataRange && conversion.window.high - conversion.window.low > 500, "\(conversion)")
        #expect(Set(try ImageFile.read(out).image.pixels).count > 200)
    }

    @Test func theDaemonsSidecarRecordsTheConversionAndValidates() throws {
        let dir = TemporaryFolder("conversion-sidecar")
        let stack = try Self.writeDimStack(dir.sub("dim.tif"))
        var settings = FusionSettings()
        settings.outputFormat = .uint8
        let processor = PipelineProcessor(settings: settings, baseDirectory: nil)
        var names = OutputPatterns()
        names.depth = nil
        let report = try processor.process(inputs: [stack], stackName: "dim", outputDirectory: dir.path, names: names, clock: { 0 })
        report.staged.discard()
        let sidecar = ProvenanceSidecar(jobID: 1, attempt: 1, stackName: "dim", dropFolder: dir.path,
                                        metadataPath: dir.path + "/dim-ro-crate-metadata.json", startTime: Date(), endTime: Date(),
                                        succeeded: true, error: nil, software: SoftwareInfo(version: "t", gitCommit: "0"),
                                        report: report, fingerprint: String(repeating: "a", count: 64),
                                        profileFingerprint: String(repeating: "b", count: 64))
        let document = try #require(try JSONSerialization.jsonObject(with: sidecar.encoded()) as? [String: Any])
        let conversions = SidecarSchemaTests.properties(document, "focusd:outputConversions")
        #expect(conversions["[0].to"] as? String == "uint8" && conversions["[0].source"] != nil, "\(conversions)")
        let errors = try SidecarSchemaTests.schema().validate(document)
        #expect(errors.isEmpty, "\(errors)")
    }

    /// Two 32×32 16-bit slices with values 73…766 (a dim microscope image).
    static func writeDimStack(_ path: String) throws -> String {
        let slices = (0..<2).map { z in
            Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { Float(73 + ($0 * (z + 5)) % 694) })
        }
        try TIFFWriter.write(slices, format: .uint16, to: path)
        return path
    }
}
