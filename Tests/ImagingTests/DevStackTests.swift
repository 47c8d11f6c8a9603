import Testing
@testable import Imaging

/// The real stacks in ../shared/data/dev/stacks open with the geometry their README states.
@Suite struct DevStackTests {
    @Test func lightSheetFolderIsUInt16Grey512x800() throws {
        let stacks = try StackLoader().open([sharedData + "/dev/stacks/dfnn_lightsheet_mitochondria"])
        #expect(stacks.count == 1)
        let stack = try #require(stacks.first)
        #expect(stack.count == 34)
        #expect(stack.geometry == SliceGeometry(width: 512, height: 800, channels: 1, format: .uint16))
        #expect(stack.sliceName(at: 2).hasSuffix("slice_002.tif"))
        let slice = try stack.slice(at: 0)
        #expect(slice.width == 512 && slice.height == 800)
        // 16-bit data: values are integers, and some exceed the 8-bit range.
        #expect(slice.pixels.allSatisfy { $0 == $0.rounded() && $0 >= 0 && $0 <= 65535 })
        #expect(slice.pixels.contains { $0 > 255 })
    }

    @Test func zeissStackIsThreePagesOfRGB8() throws {
        let path = sharedData + "/dev/stacks/edf_skeleton_zeiss/original_stack.tif"
        let stacks = try StackLoader().open([path])
        let stack = try #require(stacks.first)
        #expect(stacks.count == 1)
        #expect(stack.count == 3)
        #expect(stack.geometry == SliceGeometry(width: 170, height: 116, channels: 3, format: .uint8))
        // The split slices were cut from the original losslessly: page k == slice_00k.tif.
        for k in 0..<3 {
            let page = try stack.slice(at: k)
            let single = try ImageFile.read(sharedData + "/dev/stacks/edf_skeleton_zeiss/slice_00\(k).tif")
            #expect(single.format == .uint8)
            #expect(firstDifference(page, single.image) == nil)
        }
        #expect(try stack.slice(at: 0) != stack.slice(at: 1))
    }

    @Test func headersAloneGiveGeometryAndMetadata() throws {
        let tiff = try ImageFile.header(sharedData + "/dev/stacks/edf_skeleton_zeiss/original_stack.tif")
        #expect(tiff.geometry == SliceGeometry(width: 170, height: 116, channels: 3, format: .uint8))
        #expect(tiff.metadata.pageCount == 3)
        let jpeg = try ImageFile.header(sharedData + "/dev/stacks/focusstack_pcb/slice_000.jpg")
        #expect(jpeg.geometry == SliceGeometry(width: 2048, height: 1536, channels: 3, format: .uint8))
    }

    @Test func jpegFoldersOpenAsRGB8() throws {
        let bark = try #require(try StackLoader().open([sharedData + "/dev/stacks/eevalaiho_bark"]).first)
        #expect(bark.count == 12)
        #expect(bark.geometry == SliceGeometry(width: 600, height: 400, channels: 3, format: .uint8))
        let slice = try bark.slice(at: 11)
        #expect(slice.pixels.max()! <= 255 && slice.pixels.max()! > 100)
    }

    @Test func lytroPairOpensAsListInGivenOrder() throws {
        let a = sharedData + "/dev/lytro/01_B.jpg", b = sharedData + "/dev/lytro/01_A.jpg"
        let stack = try #require(try StackLoader().open([a, b]).first)
        #expect(stack.count == 2)
        #expect(stack.sliceName(at: 0) == a)
        #expect(stack.geometry == SliceGeometry(width: 520, height: 520, channels: 3, format: .uint8))
        #expect(try stack.slice(at: 0) == ImageFile.read(a).image)
    }
}
