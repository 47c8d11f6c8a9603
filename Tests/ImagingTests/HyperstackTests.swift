import CTIFF
import Foundation
import Testing
@testable import Imaging

/// ImageJ hyperstacks and OME-TIFF: the Z series at t = 0, one stack per channel; descriptions
/// carried to the output with Z set to 1.
@Suite struct HyperstackTests {
    /// Pages whose constant value encodes (c, z, t) as 100·t + 10·z + c.
    func constantPages(_ coordinates: [(c: Int, z: Int, t: Int)], description: String) -> [RawPage] {
        coordinates.enumerated().map { index, p in
            RawPage(width: 6, height: 4, bitsPerSample: 16, description: index == 0 ? description : nil,
                    samples: [Double](repeating: Double(100 * p.t + 10 * p.z + p.c), count: 24))
        }
    }

    func values(_ stack: any SliceSource) throws -> [Float] {
        try (0..<stack.count).map { try stack.slice(at: $0).pixels[0] }
    }

    static let imageJHeader = "ImageJ=1.54f\nimages=12\nchannels=2\nslices=3\nframes=2\nhyperstack=true\nmode=composite\nunit=micron\nspacing=0.3\nloop=false\n"

    @Test func imageJHyperstackGivesOneZSeriesPerChannel() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // czt order: c fastest, then z, then t.
        var order: [(c: Int, z: Int, t: Int)] = []
        for t in 0..<2 { for z in 0..<3 { for c in 0..<2 { order.append((c, z, t)) } } }
        try writeRawTIFF(folder.file("hyper.tif"), pages: constantPages(order, description: Self.imageJHeader))
        let stacks = try StackLoader().open([folder.file("hyper.tif")])
        #expect(stacks.count == 2)
        #expect(try values(stacks[0]) == [0, 10, 20])
        #expect(try values(stacks[1]) == [1, 11, 21])
        #expect(stacks[1].metadata.pageCount == 12)
        let single = try #require(stacks[1].metadata.imageDescription)
        #expect(!single.contains("channels="))
        #expect(single.contains("images=6\n") && single.contains("slices=3\n") && single.contains("spacing=0.3\n"))

        // The fused output of one channel: one page, slices=1, no frames.
        try TIFFWriter.write([try stacks[1].slice(at: 0)], format: .uint16, metadata: stacks[1].metadata, to: folder.file("out.tif"))
        let written = try #require(rawPageInfo(folder.file("out.tif"))?.description)
        let header = try #require(ImageJDescription(written))
        #expect(header.slices == 1 && header.images == 1 && header.channels == 1 && header.frames == 1)
        #expect(!written.contains("frames=") && !written.contains("hyperstack=") && written.contains("unit=micron\n"))
        #expect(written.hasPrefix("ImageJ=1.54f\n"))
    }

    @Test func imageJZStackWithoutChannelsIsOneStack() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let order = (0..<4).map { (c: 0, z: $0, t: 0) }
        try writeRawTIFF(folder.file("z.tif"), pages: constantPages(order, description: "ImageJ=1.54f\nimages=4\nslices=4\nmin=3\nmax=900\n"))
        let stacks = try StackLoader().open([folder.file("z.tif")])
        #expect(stacks.count == 1)
        #expect(try values(stacks[0]) == [0, 10, 20, 30])
        // Two fused channels written as two pages: channels=2, images=2, slices=1.
        let page = try stacks[0].slice(at: 0)
        try TIFFWriter.write([page, page], format: .uint16, metadata: stacks[0].metadata, to: folder.file("two.tif"))
        let twoDescription = try #require(rawPageInfo(folder.file("two.tif"))?.description)
        let header = try #require(ImageJDescription(twoDescription))
        #expect(header.images == 2 && header.channels == 2 && header.slices == 1)
        #expect(twoDescription.contains("min=3\n"))
        // A float map keeps the header but not the source's display range.
        try TIFFWriter.write([page], format: .float32, metadata: stacks[0].metadata, to: folder.file("map.tif"))
        let mapDescription = try #require(rawPageInfo(folder.file("map.tif"))?.description)
        #expect(mapDescription.hasPrefix("ImageJ=") && mapDescription.contains("slices=1\n") && !mapDescription.contains("min="))
    }

    /// A big-endian TIFF laid out as ImageJ writes stacks over 4 GiB: one directory, then the
    /// header text, then `images` 16-bit images back to back; image p holds 1000·p + pixel index.
    func imageJRawFile(width: Int, height: Int, images: Int, header: String, storedImages: Int? = nil) -> Data {
        var data = Data([0x4D, 0x4D, 0, 42, 0, 0, 0, 8])
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { data.append(contentsOf: $0) } }
        let text = Array((header + "\0").utf8)
        let entryCount = 10
        let textOffset = 8 + 2 + 12 * entryCount + 4
        let pixelOffset = textOffset + text.count
        let pageBytes = width * height * 2
        let entries: [(UInt16, UInt16, UInt32, UInt32)] = [  // tag, type, count, value
            (256, 4, 1, UInt32(width)), (257, 4, 1, UInt32(height)), (258, 3, 1, 16), (259, 3, 1, 1), (262, 3, 1, 1),
            (270, 2, UInt32(text.count), UInt32(textOffset)), (273, 4, 1, UInt32(pixelOffset)), (277, 3, 1, 1),
            (278, 4, 1, UInt32(height)), (279, 4, 1, UInt32(pageBytes)),
        ]
        append(UInt16(entryCount))
        for (tag, type, count, value) in entries {
            append(tag); append(type); append(count)
            if type == 3 { append(UInt16(value)); append(UInt16(0)) } else { append(value) }
        }
        append(UInt32(0))
        data.append(contentsOf: text)
        for p in 0..<(storedImages ?? images) {
            for i in 0..<(width * height) { append(UInt16(1000 * p + i)) }
        }
        return data
    }

    @Test func imageJRawLayoutOverFourGiBIsRead() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // 2 channels × 3 slices: images in czt order.
        let header = "ImageJ=1.54f\nimages=6\nchannels=2\nslices=3\nhyperstack=true\n"
        try imageJRawFile(width: 5, height: 3, images: 6, header: header).write(to: URL(fileURLWithPath: folder.file("raw.tif")))
        let stacks = try StackLoader().open([folder.file("raw.tif")])
        #expect(stacks.count == 2)
        #expect(stacks.allSatisfy { $0.count == 3 && $0.geometry == SliceGeometry(width: 5, height: 3, channels: 1, format: .uint16) })
        // Channel 1, slice 2 is image 2·2 + 1 = 5: values 5000 + i, byte-swapped from big-endian.
        #expect(try stacks[1].slice(at: 2).pixels == (0..<15).map { Float(5000 + $0) })
        #expect(try stacks[0].slice(at: 1).pixels[14] == 2014)
        #expect(stacks[0].metadata.imageDescription?.contains("channels=") == false)
    }

    @Test func imageJRawLayoutCutShortIsTruncated() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let header = "ImageJ=1.54f\nimages=40\nslices=40\n"
        try imageJRawFile(width: 5, height: 3, images: 40, header: header, storedImages: 25).write(to: URL(fileURLWithPath: folder.file("cut.tif")))
        do {
            _ = try StackLoader().open([folder.file("cut.tif")])
            Issue.record("a raw ImageJ file missing 15 images was accepted")
        } catch {
            #expect(error.kind == .truncated)
            #expect(error.message.contains("40 images"))
        }
    }

    static func omeXML(order: String, sizeC: Int, sizeZ: Int, sizeT: Int, tiffData: String, prefix: String = "",
                       samplesPerPixel: Int = 1, channelElements: Int? = nil) -> String {
        let planes = (0..<sizeT).flatMap { t in (0..<sizeZ).flatMap { z in (0..<sizeC).map { c in
            "<\(prefix)Plane TheC=\"\(c)\" TheT=\"\(t)\" TheZ=\"\(z)\" PositionZ=\"\(Double(z) * 0.5)\"/>"
        } } }.joined()
        let channels = (0..<(channelElements ?? sizeC)).map { "<\(prefix)Channel ID=\"Channel:0:\($0)\" Name=\"ch\($0)\" SamplesPerPixel=\"\(samplesPerPixel)\"><\(prefix)LightPath/></\(prefix)Channel>" }.joined()
        let ns = prefix.isEmpty ? "xmlns" : "xmlns:\(prefix.dropLast())"
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <\(prefix)OME \(ns)="http://www.openmicroscopy.org/Schemas/OME/2016-06" UUID="urn:uuid:1234"><\(prefix)Image ID="Image:0" Name="stack"><\(prefix)Pixels DimensionOrder="\(order)" ID="Pixels:0" SizeC="\(sizeC)" SizeT="\(sizeT)" SizeX="6" SizeY="4" SizeZ="\(sizeZ)" Type="uint16" PhysicalSizeZ="0.5">\(channels)\(tiffData)\(planes)</\(prefix)Pixels></\(prefix)Image></\(prefix)OME>
        """
    }

    @Test(arguments: ["", "ome:"])
    func omeTIFFGivesOneZSeriesPerChannel(prefix: String) throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // XYCZT: c fastest, then z, then t; one TiffData covering every plane.
        var order: [(c: Int, z: Int, t: Int)] = []
        for t in 0..<2 { for z in 0..<3 { for c in 0..<2 { order.append((c, z, t)) } } }
        let xml = Self.omeXML(order: "XYCZT", sizeC: 2, sizeZ: 3, sizeT: 2,
                              tiffData: "<\(prefix)TiffData IFD=\"0\" PlaneCount=\"12\"/>", prefix: prefix)
        try writeRawTIFF(folder.file("s.ome.tif"), pages: constantPages(order, description: xml))
        let stacks = try StackLoader().open([folder.file("s.ome.tif")])
        #expect(stacks.count == 2)
        #expect(try values(stacks[0]) == [0, 10, 20])
        #expect(try values(stacks[1]) == [1, 11, 21])

        let singleDescription = try #require(stacks[1].metadata.imageDescription)
        let single = try #require(OMEDescription(singleDescription))
        #expect(single.sizeC == 1 && single.sizeZ == 3)
        #expect(single.xml.contains("Name=\"ch1\"") && !single.xml.contains("Name=\"ch0\""))

        try TIFFWriter.write([try stacks[1].slice(at: 0)], format: .uint16, metadata: stacks[1].metadata, to: folder.file("out.ome.tif"))
        let written = try #require(rawPageInfo(folder.file("out.ome.tif"))?.description)
        let ome = try #require(OMEDescription(written))
        #expect(ome.sizeZ == 1 && ome.sizeT == 1 && ome.sizeC == 1)
        #expect(written.contains("Name=\"ch1\""))
        #expect(XMLText.elements("Plane", in: written[...]).count == 1)
        #expect(written.contains("<\(prefix)Plane TheC=\"0\" TheT=\"0\" TheZ=\"0\""))
        #expect(XMLText.elements("TiffData", in: written[...]).count == 1)
        #expect(written.contains("<\(prefix)TiffData FirstC=\"0\" FirstT=\"0\" FirstZ=\"0\" IFD=\"0\" PlaneCount=\"1\"/>"))
        #expect(!written.contains("urn:uuid:1234"))
        #expect(written.contains("PhysicalSizeZ=\"0.5\""))
        // The written file reads back as one page with that description.
        #expect(try StackLoader().open([folder.file("out.ome.tif")]).map(\.count) == [1])
    }

    @Test func omeTiffDataMapsPlanesToPages() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        // Pages stored in reverse Z order, each placed by its own TiffData.
        let tiffData = (0..<3).map { "<TiffData FirstZ=\"\($0)\" IFD=\"\(2 - $0)\" PlaneCount=\"1\"/>" }.joined()
        let xml = Self.omeXML(order: "XYZCT", sizeC: 1, sizeZ: 3, sizeT: 1, tiffData: tiffData)
        try writeRawTIFF(folder.file("r.ome.tif"), pages: constantPages([(0, 2, 0), (0, 1, 0), (0, 0, 0)], description: xml))
        let stack = try #require(try StackLoader().open([folder.file("r.ome.tif")]).first as? TIFFPageStack)
        #expect(stack.pages == [2, 1, 0])
        #expect(try values(stack) == [0, 10, 20])
    }

    @Test func omeMultiFileDatasetIsExplained() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let tiffData = "<TiffData FirstZ=\"0\" IFD=\"0\" PlaneCount=\"1\"><UUID FileName=\"m.ome.tif\">urn:uuid:1</UUID></TiffData>"
            + "<TiffData FirstZ=\"1\" IFD=\"0\" PlaneCount=\"1\"><UUID FileName=\"other.ome.tif\">urn:uuid:2</UUID></TiffData>"
        let xml = Self.omeXML(order: "XYZCT", sizeC: 1, sizeZ: 2, sizeT: 1, tiffData: tiffData)
        try writeRawTIFF(folder.file("m.ome.tif"), pages: constantPages([(0, 0, 0)], description: xml))
        do {
            _ = try StackLoader().open([folder.file("m.ome.tif")])
            Issue.record("a plane in another file was not reported")
        } catch {
            #expect(error.kind == .unsupportedLayout)
            #expect(error.message.contains("multi-file"))
        }
    }

    @Test func rgbOMEPagesCountAsOneChannel() throws {
        let folder = TemporaryFolder()
        defer { folder.cleanUp() }
        let xml = Self.omeXML(order: "XYCZT", sizeC: 3, sizeZ: 2, sizeT: 1, tiffData: "", samplesPerPixel: 3, channelElements: 1)
        let pages = (0..<2).map { z in
            RawPage(width: 6, height: 4, samplesPerPixel: 3, bitsPerSample: 16, photometric: PHOTOMETRIC_RGB,
                    description: z == 0 ? xml : nil, samples: [Double](repeating: Double(10 * z), count: 72))
        }
        try writeRawTIFF(folder.file("rgb.ome.tif"), pages: pages)
        let stacks = try StackLoader().open([folder.file("rgb.ome.tif")])
        #expect(stacks.count == 1)
        #expect(stacks[0].geometry.channels == 3)
        #expect(try values(stacks[0]) == [0, 10])
        // A grey float depth map written with the stack's metadata describes itself, not the source.
        try TIFFWriter.write([Image(width: 6, height: 4, channels: 1)], format: .float32, metadata: stacks[0].metadata, to: folder.file("depth.tif"))
        let written = try #require(rawPageInfo(folder.file("depth.tif"))?.description)
        let ome = try #require(OMEDescription(written))
        #expect(ome.sizeC == 1 && ome.sizeZ == 1)
        #expect(written.contains("Type=\"float\"") && !written.contains("Type=\"uint16\""))
        #expect(written.contains("SamplesPerPixel=\"1\"") && !written.contains("SamplesPerPixel=\"3\""))
        #expect(XMLText.elements("Channel", in: written[...]).count == 1)
    }
}
